using System.Text.Json.Nodes;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

/// <summary>The core API behind the repolock tool, on hand-made repos (no npm): lock verdicts, the prune plan, verify and fix.</summary>
public sealed class RepoInspectorTests : IDisposable
{
    private readonly TempDir _dir = new("inspect");
    private readonly RepoLayout _layout;

    public RepoInspectorTests() => _layout = new RepoLayout(_dir.Path);

    public void Dispose() => _dir.Dispose();

    /// <summary>What a finished install leaves: folder with package.json, manifest entry, sentinel.</summary>
    private void Installed(string spec, DateTimeOffset? at = null, string? packageVersion = null)
    {
        var s = AdaptorSpecifier.Parse(spec);
        Directory.CreateDirectory(_layout.AdaptorDir(s.Alias));
        File.WriteAllText(_layout.AdaptorManifest(s.Alias), new JsonObject { ["name"] = s.Name, ["version"] = packageVersion ?? s.VersionText }.ToJsonString());
        File.WriteAllText(Path.Combine(_layout.AdaptorDir(s.Alias), "index.js"), "module.exports = {};\n");
        RepoManifest.Add(_layout.ManifestPath, s);
        Sentinel.For(s, null, MachineIdentity.Current, at ?? DateTimeOffset.UtcNow).Write(_layout.SentinelPath(s.Alias));
        File.SetLastWriteTimeUtc(_layout.SentinelPath(s.Alias), (at ?? DateTimeOffset.UtcNow).UtcDateTime); // ages are the sentinel file's, by the file server
    }

    private void DropManifestEntry(string alias)
    {
        var manifest = RepoManifest.Read(_layout.ManifestPath)!;
        manifest["dependencies"]!.AsObject().Remove(alias);
        File.WriteAllText(_layout.ManifestPath, manifest.ToJsonString());
    }

    [Theory]
    [InlineData(0, LockVerdict.Alive)]
    [InlineData(60, LockVerdict.Unknown)]
    [InlineData(400, LockVerdict.Dead)]
    public void A_lock_held_from_another_machine_is_judged_by_its_age_against_its_holders_schedule_and_the_stale_age(int secondsOld, LockVerdict verdict)
    {
        var alias = AdaptorSpecifier.Parse("@openfn/language-http@7.2.10").Alias;
        var lockDir = LockService.LockDirFor(_layout.LockTarget(alias));
        Directory.CreateDirectory(lockDir);
        var mtime = DateTime.UtcNow.AddSeconds(-secondsOld);
        Directory.SetLastWriteTimeUtc(lockDir, mtime);
        new LockOwnerRecord
        {
            Host = "agent-7", MachineId = "another-machine", ProcessId = 1234, ProcessStart = "1", Purpose = "install @openfn/language-http@7.2.10",
            AcquiredAt = DateTimeOffset.UtcNow.AddSeconds(-secondsOld), HeartbeatIntervalMs = 10_000, LastHeartbeatTicks = Directory.GetLastWriteTimeUtc(lockDir).Ticks,
        }.Write(lockDir);

        var held = new RepoInspector(_layout.Root).FindLock(alias);

        Assert.NotNull(held);
        Assert.Equal(verdict, held.Verdict);
        Assert.Equal("agent-7", held.Host);
        Assert.Equal(1234, held.ProcessId);
        Assert.Contains(alias, new RepoInspector(_layout.Root).Inspect().Locks.Select(l => l.Alias));
    }

    [Fact]
    public void An_unlock_of_a_holder_not_judged_dead_is_refused_with_a_code_and_changes_nothing()
    {
        var target = _layout.LockTarget("x_1.0.0");
        using var held = new LockService(new LockSettings()).TryCreate(LockService.LockDirFor(target), "a test");

        var e = Assert.Throws<RepoLockException>(() => new RepoMaintenance(_layout.Root).Unlock("x_1.0.0", force: false));

        Assert.Equal(ErrorCodes.UnlockRefused, e.Code);
        Assert.True(Directory.Exists(held!.LockDir));
    }

    [Fact]
    public void A_forced_unlock_breaks_a_live_holders_lock_and_the_holder_finds_it_lost()
    {
        var target = _layout.LockTarget("x_1.0.0");
        using var held = new LockService(new LockSettings()).TryCreate(LockService.LockDirFor(target), "a test")!;

        var removed = new RepoMaintenance(_layout.Root).Unlock("x_1.0.0", force: true);

        Assert.True(removed);
        Assert.False(Directory.Exists(held.LockDir));
        Assert.Equal(ErrorCodes.LockLost, Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x@1.0.0")).Code);
    }

    [Fact]
    public void A_holder_whose_lock_was_removed_says_another_process_removed_it_by_a_forced_unlock_or_a_stale_judgement()
    {
        File.WriteAllText(_layout.ManifestPath, "{\"name\":\"openfn-repo\",\"private\":true,\"dependencies\":{}}");
        using var held = new LockService(new LockSettings()).TryCreate(LockService.LockDirFor(_layout.LockTarget("x_1.0.0")), "a test")!;
        new RepoMaintenance(_layout.Root).Unlock("x_1.0.0", force: true);

        var lost = Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x@1.0.0"));

        Assert.Contains("removed by another process (a forced unlock, or a waiter that judged it stale)", lost.Message);
    }

    [Fact]
    public void The_prune_plan_keeps_what_is_named_every_version_of_a_name_kept_by_tag_and_with_older_than_only_older_installs()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        Installed("a@1.0.0", old);
        Installed("a@2.0.0", old);
        Installed("b@1.0.0", old);
        Installed("b@2.0.0");
        Installed("c@1.0.0", old);
        var inspector = new RepoInspector(_layout.Root);
        AdaptorSpecifier[] keep = [AdaptorSpecifier.Parse("a@2.0.0"), AdaptorSpecifier.Parse("c@latest")];

        var all = inspector.PlanPrune(keep, null).Select(a => a.Alias);
        var older = inspector.PlanPrune(keep, TimeSpan.FromDays(30)).Select(a => a.Alias);

        Assert.Equal(["a_1.0.0", "b_1.0.0", "b_2.0.0"], all);
        Assert.Equal(["a_1.0.0", "b_1.0.0"], older);
    }

    [Fact]
    public async Task Verify_finds_a_wrong_package_a_half_install_and_an_orphan_manifest_entry_and_fix_leaves_a_consistent_repo()
    {
        Installed("good@1.0.0");
        Installed("wrong@1.0.0", packageVersion: "9.9.9");
        Installed("half@1.0.0");
        File.Delete(_layout.SentinelPath("half_1.0.0"));
        DropManifestEntry("half_1.0.0"); // with its manifest entry it would be a stock OpenFn install: adopted, never removed
        Installed("orphan@1.0.0");
        File.Delete(_layout.SentinelPath("orphan_1.0.0"));
        Directory.Delete(_layout.AdaptorDir("orphan_1.0.0"), recursive: true);
        var inspector = new RepoInspector(_layout.Root);

        var problems = inspector.Verify();
        var left = await new RepoMaintenance(_layout.Root).FixAsync(problems);

        Assert.Equal(
            ["FolderWithoutSentinel half_1.0.0", "ManifestEntryWithoutAdaptor orphan_1.0.0", "WrongPackage wrong_1.0.0"],
            problems.Select(p => $"{p.Kind} {p.Alias}").Order(StringComparer.Ordinal));
        Assert.Empty(left);
        Assert.Empty(inspector.Verify());
        Assert.Equal(["good_1.0.0"], RepoState.AssertConsistent(_layout));
        Assert.Equal(["good_1.0.0"], RepoManifest.Read(_layout.ManifestPath)!["dependencies"]!.AsObject().Select(d => d.Key));
        Assert.False(Directory.Exists(_layout.AdaptorDir("half_1.0.0")));
        Assert.Empty(RepoState.StagingFolders(_layout));
    }
}
