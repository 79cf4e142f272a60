using System.Globalization;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Interop;

/// <summary>
/// Locks on a shared file system that caches attributes and keeps whole-second mtimes: two sshfs mounts of one folder stand for two
/// machines on one NFS export. Processes on both mounts must exclude each other, a holder must not mistake the caches for a lost lock,
/// and a dead holder's lock must be taken over from the other mount: fast when the record proves it dead, otherwise after the stale age.
/// Skipped (with the reason) without root, /dev/fuse, sshfs or sshd.
/// </summary>
[Collection("sshfs mounts")] // one sshfs test bed at a time: they time lock takeovers, and parallel sshd/FUSE traffic skews them
public sealed class SharedMountTests : IClassFixture<SshfsPair>, IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    private readonly SshfsPair _mounts;
    private readonly ITestOutputHelper _output;
    private readonly string _folder = $"t-{Guid.NewGuid():N}";

    public SharedMountTests(SshfsPair mounts, ITestOutputHelper output)
    {
        _mounts = mounts;
        _output = output;
    }

    public void Dispose()
    {
        if (_mounts.SkipReason is null)
        {
            try
            {
                Directory.Delete(Path.Combine(_mounts.Shared, _folder), recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    private string On1(params string[] parts) => Path.Combine([_mounts.Mount1, _folder, .. parts]);

    private string On2(params string[] parts) => Path.Combine([_mounts.Mount2, _folder, .. parts]);

    [SkippableFact]
    public void The_mounts_share_one_folder_with_atomic_mkdir_and_whole_second_mtimes()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);

        Assert.True(NativeFs.TryCreateDirectory(Directory.CreateDirectory(On1()).FullName + "/x.lock"));

        Assert.False(NativeFs.TryCreateDirectory(On2("x.lock")));
        Assert.Equal(0, Directory.GetLastWriteTimeUtc(On2("x.lock")).Ticks % TimeSpan.TicksPerSecond);
    }

    [SkippableFact]
    public async Task Counters_on_both_mounts_lose_no_update()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);
        const int rounds = 30;
        var stale = TimeSpan.FromSeconds(10);
        var heartbeat = TimeSpan.FromSeconds(2); // refresh + cache + whole seconds stay well inside the stale age
        using var gate = HostLocks.Hold(On1(".locks", "counter.lock"), stale, heartbeat);
        await gate.WaitForLineAsync("LOCKED", Step);

        var workers = new[]
        {
            HostLocks.Counter(On1(".locks", "counter.lock"), On1("counter.txt"), rounds, stale, heartbeat),
            HostLocks.Counter(On2(".locks", "counter.lock"), On2("counter.txt"), rounds, stale, heartbeat),
            HostLocks.Counter(On1(".locks", "counter.lock"), On1("counter.txt"), rounds, stale, heartbeat),
            HostLocks.Counter(On2(".locks", "counter.lock"), On2("counter.txt"), rounds, stale, heartbeat),
            NodeLocks.Counter(On1(".locks", "counter.lock"), On1("counter.txt"), rounds, stale),
            NodeLocks.Counter(On2(".locks", "counter.lock"), On2("counter.txt"), rounds, stale),
        };
        try
        {
            foreach (var host in workers.Take(4))
            {
                await host.WaitForLineAsync("is held by", Step);
            }

            await gate.ReleaseAsync();
            foreach (var worker in workers)
            {
                Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(180)) == 0, worker.Output);
            }

            Assert.All(workers, w => Assert.DoesNotContain(ErrorCodes.LockLost, w.Output));
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }

        Assert.Equal(6 * rounds, int.Parse(File.ReadAllText(On2("counter.txt")).Trim(), CultureInfo.InvariantCulture));
    }

    [SkippableFact]
    public async Task Installs_through_both_mounts_land_each_adaptor_once_and_merge_one_manifest()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);
        using var registry = FakeNpmRegistry.Start();
        using var caches = new TempDir("sshfs-npm");
        foreach (var name in new[] { "shared", "one", "two" })
        {
            registry.AddPackage($"@fixture/language-{name}", "1.0.0");
        }

        registry.TarballLatency = TimeSpan.FromMilliseconds(500); // the two installs of "shared" meet on its lock
        var gate = new StartGate(Path.Combine(_mounts.Shared, $"{_folder}-go"));
        ChildProcess Install(string repo, string cache, string other) => ChildProcess.Start("dotnet",
            [TestPaths.TestHostDll, "install", repo, registry.Url, caches.Combine(cache), "300", "4",
             "@fixture/language-shared@1.0.0", $"@fixture/language-{other}@1.0.0"], env: gate.Environment);
        using var first = Install(On1("repo"), "cache-1", "one");
        using var second = Install(On2("repo"), "cache-2", "two");
        await gate.OpenWhenAllReadyAsync([first, second]);

        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(180)) == 0, first.Output);
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(180)) == 0, second.Output);

        var layout = new RepoLayout(Path.Combine(_mounts.Shared, _folder, "repo")); // as the server holds it
        string[] aliases = ["@fixture/language-one_1.0.0", "@fixture/language-shared_1.0.0", "@fixture/language-two_1.0.0"];
        Assert.Equal(aliases, RepoState.AssertConsistent(layout).Order());
        Assert.Equal(aliases, RepoManifest.Read(layout.ManifestPath)!["dependencies"]!.AsObject().Select(d => d.Key).Order());
        Assert.Equal(1, registry.TarballRequests("@fixture/language-shared")); // own npm caches: one download is one install
        Assert.Single(new[] { first, second }, p => p.Stdout.Contains("\"alias\":\"@fixture/language-shared_1.0.0\",\"outcome\":\"Installed\"", StringComparison.Ordinal));
        Assert.Empty(RepoState.StagingFolders(layout));
        Assert.All(new[] { first, second }, p => Assert.DoesNotContain(ErrorCodes.LockLost, p.Output));
    }

    [SkippableFact]
    public async Task A_holder_killed_on_one_mount_is_taken_over_from_the_other_within_seconds_and_never_while_alive()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);
        var stale = TimeSpan.FromSeconds(300); // recovery within seconds can only be the fast path
        using var holder = HostLocks.Hold(On1(".locks", "adaptor.lock"), stale, heartbeat: TimeSpan.FromSeconds(1));
        await holder.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(On2(".locks", "adaptor.lock"), stale);
        await waiter.WaitForLineAsync($"process {holder.Id} (hold for a test)", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", TimeSpan.FromSeconds(5)); // five refreshes under the other mount's cache
        var lockDir = Path.Combine(_mounts.Shared, _folder, ".locks", "adaptor.lock.lock");
        var lastBeat = LockOwnerRecord.TryRead(lockDir)?.LastHeartbeatTicks;
        await Poll.UntilAsync(() => LockOwnerRecord.TryRead(lockDir)?.LastHeartbeatTicks is { } t && t != lastBeat, Step, "a heartbeat");
        holder.Kill(); // just after a refresh: the lock's mtime is as new as it gets, the worst case for whole-second mtimes
        var killedAt = DateTime.UtcNow;
        var lastRefresh = Directory.GetLastWriteTimeUtc(lockDir);
        var takenAt = await waiter.SeenAtAsync("LOCKED", TimeSpan.FromSeconds(30));

        _output.WriteLine($"sshfs, holder on mount 1 killed just after a refresh: mount 2 took over {(takenAt - killedAt).TotalSeconds:0.00} s after the kill ({(takenAt - lastRefresh).TotalSeconds:0.00} s after the last refresh, whole-second mtimes, {SshfsPair.CacheSeconds} s attribute cache)");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.DoesNotContain(ErrorCodes.LockLost, holder.Output);
        Assert.Contains("no longer running", waiter.Output);
        Assert.True(takenAt - lastRefresh >= TimeSpan.FromSeconds(1), "whole-second mtimes: not taken in the second of the last refresh");
        await waiter.ReleaseAsync();
    }

    [SkippableFact]
    public async Task A_node_holder_killed_on_one_mount_is_taken_over_from_the_other_only_after_the_stale_age()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);
        var stale = TimeSpan.FromSeconds(8); // > refresh (1 s) + caches (3 s) + whole seconds (2 s)
        using var node = NodeLocks.Hold(On1(".locks", "adaptor.lock"), stale, update: TimeSpan.FromSeconds(1));
        await node.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(On2(".locks", "adaptor.lock"), stale);
        await waiter.WaitForLineAsync("is held by an unknown holder", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", stale + TimeSpan.FromSeconds(2));
        node.Kill();
        var killedAt = DateTime.UtcNow;
        var lastRefresh = Directory.GetLastWriteTimeUtc(Path.Combine(_mounts.Shared, _folder, ".locks", "adaptor.lock.lock"));
        var takenAt = await waiter.SeenAtAsync("LOCKED", stale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"sshfs, Node holder on mount 1 killed: mount 2 took over {(takenAt - lastRefresh).TotalSeconds:0.00} s after its last refresh, {(takenAt - killedAt).TotalSeconds:0.00} s after the kill (stale age {stale.TotalSeconds} s)");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.InRange(takenAt - lastRefresh, stale - TimeSpan.FromSeconds(1), stale + TimeSpan.FromSeconds(8));
        // Either stale-age rule may decide first (the server's clock, or the mtime watched unchanged; under load the second can win):
        // both are the stale age. A Node holder has no lease, so the lease rule must not be the one.
        Assert.Matches("more than the stale age|its mtime has not changed for", waiter.Output);
        Assert.DoesNotContain("has not renewed its lease", waiter.Output);
        await waiter.ReleaseAsync();
    }
}
