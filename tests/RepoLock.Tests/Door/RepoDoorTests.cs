using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Core.Platform;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Install;

namespace RepoLock.Tests.Door;

/// <summary>
/// The one door to the repo, on real entries: links at any component, FIFOs, a huge sparse file, debris by exact names, conditional
/// removal that puts back a replaced entry, a conditional manifest replace, a stock OpenFn install adopted in place, and the
/// "same machine" rule that needs the host name too.
/// </summary>
public sealed class RepoDoorTests : IClassFixture<InstallFixture>, IDisposable
{
    private const string Beta = "@fixture/language-beta@1.2.0";
    private const string BetaAlias = "@fixture/language-beta_1.2.0";

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("door");
    private readonly CollectingLog _log = new();
    private readonly RepoLayout _layout;

    public RepoDoorTests(InstallFixture fx)
    {
        _fx = fx;
        _layout = new RepoLayout(_dir.Combine("repo"));
        Directory.CreateDirectory(_layout.Root);
    }

    public void Dispose() => _dir.Dispose();

    private AdaptorRepo Repo(IProcessRunner? runner = null) => new(_layout, _fx.Settings(), _log, runner);

    private static List<AdaptorSpecifier> Specs(params string[] s) => s.Select(x => AdaptorSpecifier.Parse(x)).ToList();

    private async Task InstallBeta()
    {
        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)) + _log.Text);
    }

    [Fact]
    public async Task A_scope_folder_linked_to_a_complete_adaptor_outside_the_repo_is_not_a_cache_hit_and_is_refused_with_RL4002()
    {
        // A complete-looking adaptor outside the repo, and node_modules/@fixture linked to its folder; the sentinel is in the repo.
        var outside = Directory.CreateDirectory(_dir.Combine("outside", "@fixture", "language-beta_1.2.0")).FullName;
        File.WriteAllText(Path.Combine(outside, "package.json"), """{ "name": "@fixture/language-beta", "version": "1.2.0" }""");
        Directory.CreateDirectory(_layout.NodeModules);
        Directory.CreateSymbolicLink(Path.Combine(_layout.NodeModules, "@fixture"), Path.GetDirectoryName(outside)!);
        Sentinel.For(AdaptorSpecifier.Parse(Beta), null, MachineIdentity.Current, DateTimeOffset.UtcNow).Write(_layout.SentinelPath(BetaAlias));

        Assert.False(_layout.IsInstalled(BetaAlias)); // the cache hit looks at every component: a linked scope folder is not "installed"
        var runner = new CountingRunner();
        var result = await Repo(runner).EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(ErrorCodes.LinkInRepo, Assert.Single(result.Failures).Code);
        Assert.Empty(result.Adaptors);
        Assert.Equal(0, runner.Count);
        Assert.False(File.Exists(_layout.ManifestPath) && File.ReadAllText(_layout.ManifestPath).Contains(BetaAlias, StringComparison.Ordinal),
            "a manifest entry was written for an adaptor outside the repo");
    }

    [SkippableFact]
    public async Task A_FIFO_as_the_repo_manifest_fails_the_build_with_RL4003_instead_of_hanging_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs mkfifo");
        MakeFifo(_layout.ManifestPath);

        var run = Repo().EnsureInstalledAsync(Specs(Beta), default);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(120)); // a read of the FIFO would block forever

        Assert.Equal(ErrorCodes.NotARegularFile, Assert.Single(result.Failures).Code);
        Assert.False(Directory.Exists(_layout.NodeModules) && Directory.EnumerateFileSystemEntries(_layout.NodeModules).Any());
    }

    [SkippableFact]
    public async Task A_FIFO_sentinel_does_not_count_as_installed_and_the_adaptor_is_installed()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs mkfifo");
        await InstallBeta();
        File.Delete(_layout.SentinelPath(BetaAlias));
        MakeFifo(_layout.SentinelPath(BetaAlias));

        Assert.False(_layout.IsInstalled(BetaAlias));
        await InstallBeta();

        Assert.Equal([BetaAlias], RepoState.AssertConsistent(_layout));
        Assert.Contains(_log.Lines, l => l.Contains(ErrorCodes.NotARegularFile, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_huge_sparse_repo_manifest_is_refused_with_RL4006_without_reading_it()
    {
        using (var file = new FileStream(_layout.ManifestPath, FileMode.CreateNew))
        {
            file.SetLength(1_200_000_000); // sparse: 1.2 GB that take no disk
        }

        var before = GC.GetTotalAllocatedBytes();
        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(ErrorCodes.FileTooLarge, Assert.Single(result.Failures).Code);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 200_000_000, "the manifest was read into memory");
    }

    [Fact]
    public async Task The_sweep_removes_debris_by_exact_names_and_keeps_the_sentinel_of_an_adaptor_whose_name_contains_stale()
    {
        _fx.Registry.AddPackage("@fixture/language-x.stale-y", "1.0.0");
        const string Odd = "@fixture/language-x.stale-y_1.0.0";
        var result = await Repo().EnsureInstalledAsync(Specs("@fixture/language-x.stale-y@1.0.0"), default);
        Assert.True(result.Succeeded, _log.Text);
        var old = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(_layout.SentinelPath(Odd), old);
        var temp = Path.Combine(_layout.SentinelsDir, "@fixture", $".x.done.123.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, "half");
        File.SetLastWriteTimeUtc(temp, old);

        await InstallBeta(); // a miss: sweeps debris first

        Assert.True(File.Exists(_layout.SentinelPath(Odd)), "the sweeper deleted a sentinel because the adaptor's name contains '.stale-'");
        Assert.False(File.Exists(temp), "an old temp file of an atomic write was not swept");
        Assert.Contains(Odd, RepoState.AssertConsistent(_layout));
    }

    [Fact]
    public void A_conditional_removal_puts_back_an_entry_replaced_after_it_was_judged()
    {
        var sentinel = _layout.SentinelPath(BetaAlias);
        Directory.CreateDirectory(Path.GetDirectoryName(sentinel)!);
        File.WriteAllText(sentinel, "judged");
        var judged = _layout.Door.Look(sentinel)!.Value;
        File.Delete(sentinel);
        File.WriteAllText(sentinel, "a peer's new sentinel"); // another instance since the judgement

        var outcome = _layout.Door.RemoveJudged(sentinel, judged);

        Assert.Equal(RemoveOutcome.PutBack, outcome);
        Assert.Equal("a peer's new sentinel", File.ReadAllText(sentinel));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(sentinel)!)); // nothing left aside
        Assert.Equal(RemoveOutcome.Removed, _layout.Door.RemoveJudged(sentinel, _layout.Door.Look(sentinel)!.Value));
        Assert.False(File.Exists(sentinel));
    }

    [Fact]
    public void A_manifest_changed_by_another_writer_after_it_was_read_is_merged_never_overwritten()
    {
        RepoManifest.Add(_layout.ManifestPath, AdaptorSpecifier.Parse("a@1.0.0"));
        var text = File.ReadAllText(_layout.ManifestPath);
        var read = _layout.Door.ReadFile(_layout.ManifestPath, 1 << 20, fresh: true, out var instance);
        Assert.NotNull(read);
        File.WriteAllText(_layout.ManifestPath + ".new", text.Replace("\"a_1.0.0\"", "\"b_2.0.0\": \"npm:b@2.0.0\",\n    \"a_1.0.0\"", StringComparison.Ordinal));
        File.Move(_layout.ManifestPath + ".new", _layout.ManifestPath, overwrite: true); // a root npm install replaced it

        Assert.False(_layout.Door.ReplaceFile(_layout.ManifestPath, "{}", instance)); // not the instance read: nothing written
        Assert.True(RepoManifest.Add(_layout, Specs("c@3.0.0")));

        var deps = RepoManifest.Read(_layout.ManifestPath)!["dependencies"]!.AsObject().Select(d => d.Key).Order();
        Assert.Equal(["a_1.0.0", "b_2.0.0", "c_3.0.0"], deps);
    }

    [Fact]
    public async Task A_stock_OpenFn_install_is_adopted_in_place_and_a_partial_one_is_replaced()
    {
        // The released OpenFn engine: npm install <alias>@npm:<name>@<version> in the repo root, no sentinel.
        File.WriteAllText(_layout.ManifestPath, """{ "name": "openfn-repo", "private": true, "dependencies": {} }""");
        using (var npm = ChildProcess.Start("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--registry", _fx.Registry.Url,
                   "--cache", _fx.NpmCache.Path, $"{BetaAlias}@npm:{Beta}"], workingDir: _layout.Root))
        {
            Assert.True(await npm.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, npm.Output);
        }

        var inode = _layout.Door.Look(_layout.AdaptorDir(BetaAlias))!.Value.Ino;
        var runner = new CountingRunner();
        var result = await Repo(runner).EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(InstallOutcome.Adopted, Assert.Single(result.Adaptors).Outcome);
        Assert.Equal(0, runner.Count); // no npm: nothing moved, nothing reinstalled
        Assert.DoesNotContain(_log.Infos, l => l.StartsWith("RepoLock: installing ", StringComparison.Ordinal)); // and no progress line claims npm ran
        Assert.Equal(inode, _layout.Door.Look(_layout.AdaptorDir(BetaAlias))!.Value.Ino);
        var sentinel = Sentinel.TryRead(_layout.SentinelPath(BetaAlias))!;
        Assert.True(sentinel.Adopted);
        Assert.Null(sentinel.Digest);
        Assert.Equal([BetaAlias], RepoState.AssertConsistent(_layout));

        // A partial stock folder (its package.json names another version) is replaced, not adopted.
        File.Delete(_layout.SentinelPath(BetaAlias));
        File.WriteAllText(_layout.AdaptorManifest(BetaAlias), """{ "name": "@fixture/language-beta", "version": "0.0.1" }""");
        result = await Repo(runner).EnsureInstalledAsync(Specs(Beta), default);
        Assert.Equal(InstallOutcome.Installed, Assert.Single(result.Adaptors).Outcome);
        Assert.Equal(1, runner.Count);
        Assert.NotNull(Sentinel.TryRead(_layout.SentinelPath(BetaAlias))!.Digest);
    }

    [Fact]
    public void Same_machine_needs_the_host_name_too_not_only_the_boot_id_and_PID_namespace()
    {
        var self = MachineIdentity.Current;
        Assert.True(self.IsSameMachine(self.MachineId, self.Host));
        Assert.False(self.IsSameMachine(self.MachineId, self.Host + "-clone")); // a microVM restored from the same snapshot
        Assert.False(self.IsSameMachine("other-boot/pid:[4026531836]", self.Host));
    }

    private static void MakeFifo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
