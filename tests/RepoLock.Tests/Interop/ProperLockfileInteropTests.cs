using System.Globalization;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Interop;

/// <summary>
/// RepoLock and the real proper-lockfile 4.1.2 (what OpenFn workers use) exclude each other on one target file, each in its own process.
/// </summary>
public sealed class ProperLockfileInteropTests : IDisposable
{
    private static readonly TimeSpan LongStale = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan ShortStale = TimeSpan.FromSeconds(6); // refreshed every second: no load stall reaches it
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("interop");

    public ProperLockfileInteropTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_node_holder_makes_our_install_wait_until_it_releases()
    {
        using var registry = FakeNpmRegistry.Start();
        var spec = AdaptorSpecifier.Parse("@openfn/language-interop@1.0.0");
        registry.AddPackage(spec.Name, spec.VersionText);
        var layout = new RepoLayout(_dir.Combine("repo"));
        var target = layout.LockTarget(spec.Alias);
        using var node = NodeLocks.Hold(target, LongStale);
        await node.WaitForLineAsync("LOCKED", Step);

        using var install = ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "install", layout.Root, registry.Url, _dir.Combine("npm-cache"), "300", "4", spec.ToString()]);
        await install.WaitForLineAsync("is held by an unknown holder", Step);

        Assert.False(install.HasExited);
        Assert.False(layout.IsInstalled(spec.Alias));
        Assert.Empty(RepoState.StagingFolders(layout)); // npm never started
        await node.ReleaseAsync();
        Assert.Equal(0, await install.WaitForExitAsync(Step));
        Assert.Contains("\"outcome\":\"Installed\"", install.Stdout);
        Assert.Contains(spec.Alias, RepoState.AssertConsistent(layout));
    }

    [Fact]
    public async Task Proper_lockfile_sees_our_lock_as_held_and_cannot_take_it()
    {
        var target = _dir.Combine(".locks", "adaptor.lock");
        using var holder = HostLocks.Hold(target, LongStale);
        await holder.WaitForLineAsync("LOCKED", Step);

        var (checkLocked, lockError) = await NodeLocks.CheckAsync(target, LongStale);

        Assert.True(checkLocked);
        Assert.Equal("ELOCKED", lockError);
        await holder.ReleaseAsync();
        Assert.Equal((false, (string?)null), await NodeLocks.CheckAsync(target, LongStale));
    }

    [Fact]
    public async Task A_proper_lockfile_waiter_is_kept_out_by_our_heartbeat_for_several_of_its_stale_ages()
    {
        var target = _dir.Combine(".locks", "adaptor.lock");
        using var holder = HostLocks.Hold(target, ShortStale); // refreshes every stale age / 2, as proper-lockfile holders do
        await holder.WaitForLineAsync("LOCKED", Step);
        var keptOutFor = ShortStale * 3;

        using var node = NodeLocks.Wait(target, ShortStale, keptOutFor); // breaks any lock that looks older than its stale age
        var exit = await node.WaitForExitAsync(keptOutFor + Step);

        Assert.True(exit == 3, node.Output);
        Assert.Equal("ELOCKED", node.Stdout.Trim());
        Assert.DoesNotContain("lost the lock", holder.Output);
        await holder.ReleaseAsync();
    }

    [Fact]
    public async Task Node_and_dotnet_counters_under_one_lock_lose_no_update()
    {
        var target = _dir.Combine(".locks", "counter.lock");
        var counter = _dir.Combine("counter.txt");
        const int rounds = 50;
        var stale = TimeSpan.FromSeconds(30);
        using var gate = HostLocks.Hold(target, stale); // holds every worker at its first round until all four are running
        await gate.WaitForLineAsync("LOCKED", Step);

        var workers = new[]
        {
            NodeLocks.Counter(target, counter, rounds, stale),
            NodeLocks.Counter(target, counter, rounds, stale),
            HostLocks.Counter(target, counter, rounds, stale),
            HostLocks.Counter(target, counter, rounds, stale),
        };
        try
        {
            await workers[2].WaitForLineAsync("is held by", Step);
            await workers[3].WaitForLineAsync("is held by", Step);
            Assert.All(workers, w => Assert.False(w.HasExited, w.Output));
            await gate.ReleaseAsync();
            foreach (var worker in workers)
            {
                Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, worker.Output);
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }

        Assert.Equal(4 * rounds, int.Parse(File.ReadAllText(counter).Trim(), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_killed_node_holder_is_taken_over_only_after_the_stale_age()
    {
        var target = _dir.Combine(".locks", "adaptor.lock");
        using var node = NodeLocks.Hold(target, ShortStale, update: TimeSpan.FromSeconds(1));
        await node.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(target, ShortStale);
        await waiter.WaitForLineAsync("is held by an unknown holder", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", ShortStale * 1.5); // the holder refreshes every second
        node.Kill();
        var killedAt = DateTime.UtcNow;
        var lastRefresh = Directory.GetLastWriteTimeUtc(target + ".lock");
        var takenAt = await waiter.SeenAtAsync("LOCKED", ShortStale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"proper-lockfile holder (stale {ShortStale.TotalSeconds} s) killed: taken {(takenAt - lastRefresh).TotalSeconds:0.00} s after its last refresh, {(takenAt - killedAt).TotalSeconds:0.00} s after the kill");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.InRange(takenAt - lastRefresh, ShortStale - TimeSpan.FromMilliseconds(50), ShortStale + TimeSpan.FromSeconds(10));
        Assert.Contains($"more than the stale age of {ShortStale.TotalSeconds:0} s", waiter.Output);
        await waiter.ReleaseAsync();
    }
}
