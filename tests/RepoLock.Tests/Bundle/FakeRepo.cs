using RepoLock.Core;

namespace RepoLock.Tests.Bundle;

/// <summary>A repo laid out by hand: adaptors with sentinels (as a worker leaves them: empty) and packages at the root's node_modules.</summary>
internal sealed class FakeRepo
{
    public FakeRepo(string root) => Layout = new RepoLayout(root);

    public RepoLayout Layout { get; }

    public FakeRepo Adaptor(string name, string version, string deps = "{}", string extra = "")
    {
        var spec = AdaptorSpecifier.Parse($"{name}@{version}");
        Write(Layout.AdaptorDir(spec.Alias), name, version, deps, extra);
        Directory.CreateDirectory(Path.GetDirectoryName(Layout.SentinelPath(spec.Alias))!);
        File.WriteAllText(Layout.SentinelPath(spec.Alias), "");
        return this;
    }

    public FakeRepo Package(string name, string version, string deps = "{}") =>
        Write(Path.Combine(Layout.NodeModules, name), name, version, deps, "");

    private FakeRepo Write(string folder, string name, string version, string deps, string extra)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "package.json"),
            $$"""{"name":"{{name}}","version":"{{version}}","dependencies":{{deps}}{{(extra.Length > 0 ? "," + extra : "")}}}""");
        File.WriteAllText(Path.Combine(folder, "index.js"), "module.exports = {};\n");
        return this;
    }
}
