using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RepoLock.Tests.Bundle;

/// <summary>
/// RepoLockVerifyAgainstRegistry: what no install digest covers (a Node worker's adaptor and the dependencies npm hoisted for it) is
/// compared with the tarballs the (fake) registry published, fetched by the real npm CLI.
/// </summary>
public sealed class BundleRegistryTests : IClassFixture<BundleFixture>, IDisposable
{
    private static readonly AdaptorSpecifier Hoisted = AdaptorSpecifier.Parse(BundleFixture.Hoisted + "@1.0.0");

    private readonly BundleFixture _fx;
    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("registry");

    public BundleRegistryTests(BundleFixture fx, ITestOutputHelper output)
    {
        _fx = fx;
        _output = output;
    }

    public void Dispose() => _dir.Dispose();

    private string Repo => _dir.Combine("repo");

    private string Dest => _dir.Combine("publish", "openfn-repo");

    private RepoLockSettings Checked(bool offline = false) => _fx.Settings with { VerifyAgainstRegistry = true, Offline = offline };

    private async Task WorkerInstalled()
    {
        await _fx.WorkerInstallAsync(Repo, BundleFixture.Hoisted, "1.0.0");
        Assert.True(File.Exists(Path.Combine(Repo, "node_modules", "@fixture", "dep-one", "package.json")), "npm did not hoist: the test proves nothing");
    }

    [Fact]
    public async Task A_Node_worker_install_matches_its_published_tarballs_and_ships_without_the_unverified_warning()
    {
        await WorkerInstalled();
        var log = new CollectingLog();

        var clock = Stopwatch.StartNew();
        RepoBundle.Create(Repo, [Hoisted], Dest, Dest + ".tar.gz", Checked(), log);
        _output.WriteLine($"bundle with the registry check: {clock.ElapsedMilliseconds} ms (3 packages)");

        Assert.Empty(log.Lines);
        Assert.True(File.Exists(Path.Combine(Dest, "node_modules", "@fixture", "dep-two", "index.js")));
    }

    [Fact]
    public async Task A_changed_byte_in_a_hoisted_dependency_is_RL6011_naming_the_package_and_the_file()
    {
        await WorkerInstalled();
        File.AppendAllText(Path.Combine(Repo, "node_modules", "@fixture", "dep-one", "index.js"), "// changed\n");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(Repo, [Hoisted], Dest, Dest + ".tar.gz", Checked()));

        Assert.Equal(ErrorCodes.BundleRegistryMismatch, e.Code);
        Assert.Contains("@fixture/dep-one@2.1.0 at node_modules/@fixture/dep-one", e.Message, StringComparison.Ordinal);
        Assert.Contains("index.js (differs from the published file)", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Dest));
        Assert.False(File.Exists(Dest + ".tar.gz"));
    }

    [Fact]
    public async Task Offline_the_check_reads_npms_cache_and_an_added_file_in_the_adaptor_is_RL6011()
    {
        await WorkerInstalled();
        RepoBundle.Create(Repo, [Hoisted], Dest, null, Checked(offline: true));

        File.WriteAllText(Path.Combine(Repo, "node_modules", Hoisted.Alias, "extra.js"), "require('child_process');\n");
        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(Repo, [Hoisted], Dest + "2", null, Checked(offline: true)));

        Assert.Equal(ErrorCodes.BundleRegistryMismatch, e.Code);
        Assert.Contains($"{BundleFixture.Hoisted}@1.0.0 at node_modules/{Hoisted.Alias}", e.Message, StringComparison.Ordinal);
        Assert.Contains("extra.js (not in the published package)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_with_the_registry_check_names_the_changed_hoisted_file_and_without_it_finds_nothing()
    {
        await WorkerInstalled();
        File.AppendAllText(Path.Combine(Repo, "node_modules", "@fixture", "dep-two", "index.js"), "// changed\n");

        var checkedProblems = new RepoInspector(Repo, Checked()).Verify();
        var plainProblems = new RepoInspector(Repo, _fx.Settings).Verify();

        var problem = Assert.Single(checkedProblems, p => p.Kind == RepoProblemKind.RegistryMismatch);
        Assert.Equal(Hoisted.Alias, problem.Alias);
        Assert.Contains("@fixture/dep-two@1.0.0 at node_modules/@fixture/dep-two", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("index.js (differs from the published file)", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(plainProblems, p => p.Kind == RepoProblemKind.RegistryMismatch);
    }

    [Fact]
    public async Task Without_the_setting_the_same_change_ships_with_the_unverified_warning()
    {
        await WorkerInstalled();
        File.AppendAllText(Path.Combine(Repo, "node_modules", "@fixture", "dep-one", "index.js"), "// changed\n");
        var log = new CollectingLog();

        RepoBundle.Create(Repo, [Hoisted], Dest, null, _fx.Settings, log);

        Assert.Contains(log.Lines, l => l.StartsWith($"warning {ErrorCodes.BundleNotVerified}", StringComparison.Ordinal));
    }
}
