using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>The installer end to end against the real npm CLI and a registry on 127.0.0.1.</summary>
public class AdaptorRepoTests : IClassFixture<InstallFixture>, IDisposable
{
    private readonly InstallFixture _fx;
    private readonly TempDir _repoDir = new("repo");
    private readonly CollectingLog _log = new();
    private readonly RepoLayout _layout;

    public AdaptorRepoTests(InstallFixture fx)
    {
        _fx = fx;
        _layout = new RepoLayout(_repoDir.Combine("repo"));
    }

    public void Dispose() => _repoDir.Dispose();

    private AdaptorRepo Repo(RepoLockSettings? settings = null, IProcessRunner? runner = null) => new(_layout, settings ?? _fx.Settings(), _log, runner);

    private static IReadOnlyList<AdaptorSpecifier> Specs(params string[] s) => s.Select(x => AdaptorSpecifier.Parse(x)).ToList();

    private JsonObject Manifest() => JsonNode.Parse(File.ReadAllText(_layout.ManifestPath))!.AsObject();

    private void AssertNothingLeftBehind()
    {
        Assert.True(!Directory.Exists(_layout.StagingDir) || !Directory.EnumerateFileSystemEntries(_layout.StagingDir).Any(), "staging left behind");
        Assert.Empty(Directory.Exists(_layout.LocksDir) ? Directory.GetDirectories(_layout.LocksDir, "*.lock", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Installs_an_adaptor_with_its_dependencies_inside_its_own_folder()
    {
        var result = await Repo().EnsureInstalledAsync(Specs("@fixture/language-alpha@1.0.0"), default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
        var alias = "@fixture/language-alpha_1.0.0";
        Assert.Equal(InstallOutcome.Installed, Assert.Single(result.Adaptors).Outcome);
        var pkg = JsonNode.Parse(File.ReadAllText(_layout.AdaptorManifest(alias)))!;
        Assert.Equal("@fixture/language-alpha", pkg["name"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(_layout.AdaptorDir(alias), "node_modules", "@fixture", "dep-one", "package.json")));
        Assert.False(Directory.Exists(Path.Combine(_layout.NodeModules, "@fixture", "dep-one"))); // nothing hoisted to the repo root
        Assert.Equal("npm:@fixture/language-alpha@1.0.0", Manifest()["dependencies"]![alias]!.GetValue<string>());
        var sentinel = Sentinel.TryRead(_layout.SentinelPath(alias))!;
        Assert.Equal(_fx.Registry.IntegrityOf("@fixture/language-alpha", "1.0.0"), sentinel.Integrity);
        Assert.Equal("1.0.0", sentinel.Version);
        AssertNothingLeftBehind();
        Assert.Contains(_log.Lines, l => l.Contains("1 installed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_run_is_a_cache_hit_that_takes_no_lock_starts_no_process_and_writes_nothing()
    {
        await Repo().EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);
        // No lock can be taken and no staging folder made: both places are now plain files (root ignores permissions, not this).
        foreach (var dir in new[] { _layout.LocksDir, _layout.StagingDir })
        {
            Directory.Delete(dir, recursive: true);
            File.WriteAllText(dir, "not a folder");
        }

        var stamp = Directory.GetFiles(_layout.Root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var runner = new CountingRunner();

        var result = await Repo(runner: runner).EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
        Assert.Equal(InstallOutcome.AlreadyInstalled, Assert.Single(result.Adaptors).Outcome);
        Assert.Equal(0, runner.Count);
        var after = Directory.GetFiles(_layout.Root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Assert.Equal(stamp, after);
    }

    [Theory]
    [InlineData("@fixture/missing@1.0.0", "E404")]
    [InlineData("@fixture/broken@1.0.0", "npm error")]
    public async Task A_registry_error_is_RL3001_with_npms_lines_and_changes_nothing(string spec, string npmLine)
    {
        File.WriteAllText(Directory.CreateDirectory(_layout.Root).FullName + "/package.json", """{ "name": "openfn-repo", "private": true, "dependencies": {} }""");
        var manifestBefore = File.ReadAllText(_layout.ManifestPath);

        var result = await Repo(runner: new NoFetchRetries()).EnsureInstalledAsync(Specs(spec), default);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(ErrorCodes.NpmFailed, failure.Code);
        Assert.Contains(npmLine, failure.Message);
        Assert.Contains(spec, failure.Message);
        var alias = AdaptorSpecifier.Parse(spec).Alias;
        Assert.False(File.Exists(_layout.SentinelPath(alias)));
        Assert.False(Directory.Exists(_layout.AdaptorDir(alias)));
        Assert.Equal(manifestBefore, File.ReadAllText(_layout.ManifestPath));
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_hanging_registry_is_stopped_at_the_install_timeout_with_RL3002()
    {
        var result = await Repo(_fx.Settings(installTimeout: TimeSpan.FromSeconds(3))).EnsureInstalledAsync(Specs("@fixture/hangs@1.0.0"), default);

        Assert.Equal(ErrorCodes.InstallTimeout, Assert.Single(result.Failures).Code);
        Assert.False(File.Exists(_layout.SentinelPath("@fixture/hangs_1.0.0")));
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Cancelling_stops_npm_promptly_with_RL3006()
    {
        using var cts = new CancellationTokenSource();
        var before = _fx.Registry.PackumentRequests("@fixture/hangs");
        var run = Repo().EnsureInstalledAsync(Specs("@fixture/hangs@1.0.0"), cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (_fx.Registry.PackumentRequests("@fixture/hangs") == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "npm never asked the registry");
            await Task.Delay(20);
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        cts.Cancel();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ErrorCodes.Cancelled, Assert.Single(result.Failures).Code);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_missing_npm_is_RL3003()
    {
        var settings = _fx.Settings() with { NpmPath = "/nonexistent/npm" };

        var result = await Repo(settings).EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);

        Assert.Equal(ErrorCodes.NpmNotFound, Assert.Single(result.Failures).Code);
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_package_other_than_the_one_asked_for_is_RL3004()
    {
        var liar = new FakeNpm((spec, dir) =>
        {
            var folder = Directory.CreateDirectory(Path.Combine(dir, "node_modules", "@fixture", "language-beta_1.2.0")).FullName;
            File.WriteAllText(Path.Combine(folder, "package.json"), """{ "name": "@evil/other", "version": "6.6.6" }""");
        });

        var result = await Repo(runner: liar).EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);

        Assert.Equal(ErrorCodes.UnexpectedPackage, Assert.Single(result.Failures).Code);
        Assert.False(Directory.Exists(_layout.AdaptorDir("@fixture/language-beta_1.2.0")));
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_corrupt_repo_manifest_is_RL4001_before_npm_runs()
    {
        Directory.CreateDirectory(_layout.Root);
        File.WriteAllText(_layout.ManifestPath, "{ oops");
        var runner = new CountingRunner();

        var result = await Repo(runner: runner).EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);

        Assert.Equal(ErrorCodes.ManifestCorrupt, Assert.Single(result.Failures).Code);
        Assert.Equal(0, runner.Count);
        Assert.Equal("{ oops", File.ReadAllText(_layout.ManifestPath));
    }

    [Theory]
    [InlineData("@fixture/language-beta", "1.2.0")]
    [InlineData("@fixture/language-beta@latest", "1.2.0")]
    [InlineData("@fixture/language-beta@next", "2.0.0-rc.1")]
    public async Task Dist_tags_resolve_to_exact_versions_through_the_registry(string include, string expected)
    {
        var resolved = await Repo().ResolveAsync(Specs(include), default);

        Assert.Equal(expected, Assert.Single(resolved).VersionText);
        Assert.Contains(_log.Lines, l => l.Contains($"resolved to {expected}", StringComparison.Ordinal));
        Assert.False(Directory.Exists(_layout.Root)); // resolving writes nothing
    }

    [Fact]
    public async Task An_unknown_package_tag_is_RL1004()
    {
        var e = await Assert.ThrowsAsync<RepoLockException>(() => Repo().ResolveAsync(Specs("@fixture/missing@latest"), default));

        Assert.Equal(ErrorCodes.TagNotResolved, e.Code);
    }

    [Fact]
    public async Task Missing_adaptors_of_one_build_install_concurrently()
    {
        // All four must be past npm at the same time, or the barrier times out: serial installs cannot pass this.
        using var barrier = new Barrier(4);
        var together = true;
        var settings = _fx.Settings(checkpoint: (point, _) =>
        {
            if (point == "after-npm" && !barrier.SignalAndWait(TimeSpan.FromSeconds(60)))
            {
                together = false;
            }
        });

        var result = await Repo(settings).EnsureInstalledAsync(Specs(Enumerable.Range(0, 4).Select(i => $"@fixture/language-p{i}@1.0.0").ToArray()), default);

        Assert.True(result.Succeeded);
        Assert.True(together, "the four installs did not overlap");
        Assert.Equal(4, Manifest()["dependencies"]!.AsObject().Count);
    }

    [Fact]
    public async Task A_build_installs_free_adaptors_while_a_peer_holds_another_ones_lock()
    {
        var locks = new LockService(new LockSettings());
        var peer = locks.StartWaiting(_layout.LockTarget("@fixture/language-p0_1.0.0"), "peer").TryAcquire("peer install")!;
        var run = Repo().EnsureInstalledAsync(Specs("@fixture/language-p0@1.0.0", "@fixture/language-p1@1.0.0"), default);

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!_layout.IsInstalled("@fixture/language-p1_1.0.0"))
        {
            Assert.True(DateTime.UtcNow < deadline, "p1 was not installed while p0's lock was held");
            Assert.False(run.IsCompleted, "gave up on p0 instead of waiting");
            await Task.Delay(50);
        }

        Assert.False(_layout.IsInstalled("@fixture/language-p0_1.0.0"));
        peer.Dispose();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(result.Succeeded);
        Assert.All(result.Adaptors, a => Assert.Equal(InstallOutcome.Installed, a.Outcome));
    }

    [Fact]
    public async Task A_half_install_without_sentinel_is_replaced()
    {
        var alias = "@fixture/language-beta_1.2.0";
        Directory.CreateDirectory(_layout.AdaptorDir(alias));
        File.WriteAllText(Path.Combine(_layout.AdaptorDir(alias), "half-written.js"), "partial");

        var result = await Repo().EnsureInstalledAsync(Specs("@fixture/language-beta@1.2.0"), default);

        Assert.True(result.Succeeded);
        Assert.False(File.Exists(Path.Combine(_layout.AdaptorDir(alias), "half-written.js")));
        Assert.True(_layout.IsInstalled(alias));
        AssertNothingLeftBehind();
    }

    /// <summary>Stands in for npm: lays out files as the callback says and succeeds.</summary>
    private sealed class FakeNpm(Action<AdaptorSpecifier?, string> layout) : IProcessRunner
    {
        public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken)
        {
            layout(null, spec.WorkingDirectory);
            return Task.FromResult(new ProcessResult(0, "", false));
        }
    }

    /// <summary>npm without its retries of a failed fetch (10 s, then 60 s of backoff): the registry's 500 is the answer under test, not a hiccup.</summary>
    private sealed class NoFetchRetries : IProcessRunner
    {
        public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken) =>
            ProcessRunner.Instance.RunAsync(spec with { Environment = new Dictionary<string, string?>(spec.Environment) { ["npm_config_fetch_retries"] = "0" } }, cancellationToken);
    }
}
