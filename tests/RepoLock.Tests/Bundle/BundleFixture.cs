using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Bundle;

/// <summary>
/// A fake registry whose adaptors really import their dependencies (so a missing one fails in Node), and the steps bundle tests share:
/// a Node worker's install, extracting an archive, running a job with the real @openfn/runtime.
/// </summary>
public sealed class BundleFixture : IDisposable
{
    public const string Hoisted = "@fixture/language-hoisted";
    public const string Other = "@fixture/language-other";

    public BundleFixture()
    {
        Registry.AddPackage("@fixture/dep-two", "1.0.0");
        Registry.AddPackage("@fixture/dep-one", "2.1.0", new Dictionary<string, string> { ["@fixture/dep-two"] = "^1.0.0" },
            "\"use strict\";\nexports.name = require(\"@fixture/dep-two\").name;\n");
        Registry.AddPackage("@fixture/dep-three", "1.0.0");
        Registry.AddPackage(Hoisted, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0" },
            "\"use strict\";\nconst dep = require(\"@fixture/dep-one\");\nexports.fn = (f) => (state) => f(state);\nexports.depName = () => dep.name;\n");
        Registry.AddPackage(Other, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0", ["@fixture/dep-three"] = "^1.0.0" });
    }

    public FakeNpmRegistry Registry { get; } = FakeNpmRegistry.Start();

    public TempDir NpmCache { get; } = new("npmcache");

    public RepoLockSettings Settings => new() { Registry = Registry.Url, NpmCacheDir = NpmCache.Path, LockTimeout = TimeSpan.FromSeconds(120), CreateRepoDir = true };

    /// <summary>tests/node/worker-install.cjs: proper-lockfile lock, npm install &lt;alias&gt;@npm:&lt;name&gt;@&lt;version&gt; in the repo root, empty sentinel.</summary>
    public async Task WorkerInstallAsync(string repo, string name, string version, string? registry = null)
    {
        Directory.CreateDirectory(repo);
        List<string> args = [NodeTools.Script("worker-install.cjs"), repo, name, version, registry ?? Registry.Url];
        using var worker = ChildProcess.Start("node", args, NodeTools.Dir, NpmEnvironment);
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, worker.Output);
    }

    /// <summary>A stock npm command in the repo root (<c>install</c>, <c>dedupe</c>), as a worker or a person runs it there.</summary>
    public async Task RootNpmAsync(string repo, string command, string? registry = null)
    {
        using var npm = ChildProcess.Start("npm", [command, "--no-audit", "--no-fund", "--registry", registry ?? Registry.Url], repo, NpmEnvironment);
        Assert.True(await npm.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, npm.Output);
    }

    public Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = NpmCache.Path,
        ["npm_config_userconfig"] = Path.Combine(NpmCache.Path, "no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
    };

    /// <summary>Extracts a .tar.gz into a fresh folder, as an image build does.</summary>
    public static string Extract(string archive, string into)
    {
        Directory.CreateDirectory(into);
        using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        TarFile.ExtractToDirectory(gz, into, overwriteFiles: false);
        return into;
    }

    /// <summary>run-job.mjs: the real @openfn/runtime runs one job step with the adaptor from <paramref name="repo"/>; the final state.</summary>
    public static async Task<JsonNode> RunJobAsync(string repo, string name, string version, string expression)
    {
        var job = Path.Combine(repo, "..", $"job-{Guid.NewGuid():N}.js");
        File.WriteAllText(job, expression);
        using var node = ChildProcess.Start("node", ["--experimental-vm-modules", NodeTools.Script("run-job.mjs"), repo, name, version, job, """{"data":{}}"""], NodeTools.Dir);
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, node.Output);
        return JsonNode.Parse(node.Stdout.Trim().Split('\n')[^1])!;
    }

    public void Dispose()
    {
        Registry.Dispose();
        NpmCache.Dispose();
    }
}
