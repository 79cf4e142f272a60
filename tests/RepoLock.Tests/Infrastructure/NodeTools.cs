using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Infrastructure;

/// <summary>The real Node packages the tests use (proper-lockfile, @openfn/runtime), installed once per test run from tests/node/package-lock.json.</summary>
internal static class NodeTools
{
    private static readonly Lazy<string> Installed = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>tests/node with its node_modules installed.</summary>
    public static string Dir => Installed.Value;

    public static string Script(string name) => Path.Combine(Dir, name);

    private static string Install()
    {
        var dir = TestPaths.NodeTools;
        var marker = Path.Combine(dir, "node_modules", ".package-lock.json");
        if (!File.Exists(Path.Combine(dir, "node_modules", "proper-lockfile", "package.json")) ||
            !File.Exists(Path.Combine(dir, "node_modules", "@openfn", "runtime", "package.json")) || !File.Exists(marker))
        {
            var (code, output) = NpmCli.Run(dir, "ci", "--no-audit", "--no-fund", "--registry", "https://registry.npmjs.org/");
            if (code != 0)
            {
                throw new InvalidOperationException($"npm ci in {dir} failed ({code}):\n{output}");
            }
        }

        return dir;
    }
}
