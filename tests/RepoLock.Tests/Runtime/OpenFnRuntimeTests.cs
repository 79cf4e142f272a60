using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Install;

namespace RepoLock.Tests.Runtime;

/// <summary>The real @openfn/runtime (from npm) loads adaptors the installer put in the repo and runs a job with them.</summary>
public class OpenFnRuntimeTests : IClassFixture<InstallFixture>, IDisposable
{
    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("runtime");

    public OpenFnRuntimeTests(InstallFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    private async Task<JsonNode> RunJob(string repo, string name, string version, string expression)
    {
        var job = _dir.Combine("job.js");
        File.WriteAllText(job, expression);
        using var node = ChildProcess.Start("node", ["--experimental-vm-modules", NodeTools.Script("run-job.mjs"), repo, name, version, job, """{"data":{}}"""], NodeTools.Dir);
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, node.Output);
        return JsonNode.Parse(node.Stdout.Trim().Split('\n')[^1])!;
    }

    [Fact]
    public async Task The_runtime_runs_a_job_with_a_fixture_adaptor_the_installer_put_in_the_repo()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var result = await new AdaptorRepo(layout, _fx.Settings()).EnsureInstalledAsync([AdaptorSpecifier.Parse("@fixture/language-alpha@1.0.0")], default);
        Assert.True(result.Succeeded);

        var state = await RunJob(layout.Root, "@fixture/language-alpha", "1.0.0", "fn(state => ({ ...state, data: { ok: true } }));\n");

        Assert.True(state["data"]!["ok"]!.GetValue<bool>());
    }

    /// <summary>Smoke test against the npm registry itself: the real adaptor, installed by RepoLock, run by the real runtime.</summary>
    [Fact]
    public async Task The_real_language_common_installs_from_the_npm_registry_and_runs()
    {
        var layout = new RepoLayout(_dir.Combine("real-repo"));
        var settings = new RepoLockSettings { NpmCacheDir = _fx.NpmCache.Path, CreateRepoDir = true };

        var result = await new AdaptorRepo(layout, settings).EnsureInstalledAsync([AdaptorSpecifier.Parse("@openfn/language-common@3.3.4")], default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
        Assert.StartsWith("sha512-", Sentinel.TryRead(layout.SentinelPath("@openfn/language-common_3.3.4"))!.Integrity);
        var state = await RunJob(layout.Root, "@openfn/language-common", "3.3.4",
            "fn(state => ({ ...state, data: { ok: true, seen: dataValue('x')({ data: { x: 42 } }) } }));\n");
        Assert.True(state["data"]!["ok"]!.GetValue<bool>());
        Assert.Equal(42, state["data"]!["seen"]!.GetValue<int>());
    }
}
