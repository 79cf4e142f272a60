using RepoLock.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// Locks written by clocks that disagree with the file server's. A waiter judges age by the server's clock (a probe file's mtime), and a lock
/// whose mtime lies in the future still goes stale once watched unchanged for the stale age: no early takeover, no endless wait.
/// </summary>
public sealed class ClockSkewTests : IDisposable
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(6); // a refresh every second: a loaded 2-core machine stalls far less than 5 s
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("skew");

    public ClockSkewTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "adaptor.lock");

    [Fact]
    public async Task A_dead_lock_with_an_mtime_an_hour_ahead_is_taken_after_watching_it_for_the_stale_age()
    {
        Directory.CreateDirectory(Target + ".lock"); // a Node worker whose clock ran an hour ahead, then died
        File.WriteAllText(Target, "");
        Directory.SetLastWriteTimeUtc(Target + ".lock", DateTime.UtcNow.AddHours(1));

        using var waiter = HostLocks.Hold(Target, Stale);
        var waitingAt = await waiter.SeenAtAsync("is held by an unknown holder", Step);
        var takenAt = await waiter.SeenAtAsync("LOCKED", Stale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"future mtime (+1 h): taken {(takenAt - waitingAt).TotalSeconds:0.00} s after the waiter first saw it (stale age {Stale.TotalSeconds} s)");
        Assert.InRange(takenAt - waitingAt, Stale - TimeSpan.FromSeconds(1), Stale + TimeSpan.FromSeconds(10)); // not at once, not never
        Assert.Contains("in the future", waiter.Output);
        Assert.Contains($"has not changed for {Stale.TotalSeconds:0} s while we waited", waiter.Output);
        await waiter.ReleaseAsync();
    }

    [Fact]
    public async Task A_node_holder_whose_clock_runs_an_hour_ahead_keeps_its_lock_while_it_refreshes_and_loses_it_once_dead()
    {
        using var node = NodeLocks.Hold(Target, Stale, update: TimeSpan.FromSeconds(1), clockSkew: TimeSpan.FromHours(1));
        await node.WaitForLineAsync("LOCKED", Step);
        Assert.True(Directory.GetLastWriteTimeUtc(Target + ".lock") > DateTime.UtcNow.AddMinutes(50), "the holder writes mtimes an hour ahead");
        using var waiter = HostLocks.Hold(Target, Stale);
        await waiter.WaitForLineAsync("is held by an unknown holder", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Stale * 2);
        node.Kill();
        var killedAt = DateTime.UtcNow;
        var takenAt = await waiter.SeenAtAsync("LOCKED", Stale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"holder with a clock +1 h: not taken during {(Stale * 2).TotalSeconds} s of refreshes; taken {(takenAt - killedAt).TotalSeconds:0.00} s after its kill");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.InRange(takenAt - killedAt, Stale - TimeSpan.FromSeconds(2), Stale + TimeSpan.FromSeconds(10)); // its last refresh was up to a second before the kill
        await waiter.ReleaseAsync();
    }

    [Fact]
    public async Task A_waiter_whose_own_clock_is_a_day_ahead_neither_breaks_a_live_lock_nor_misses_a_dead_one()
    {
        const int hours = 24; // by its own clock every lock looks a day old (a day behind is covered on fake time)
        using var node = NodeLocks.Hold(Target, Stale, update: TimeSpan.FromSeconds(1));
        await node.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(Target, Stale, clockSkew: TimeSpan.FromHours(hours));
        await waiter.WaitForLineAsync("is held by an unknown holder", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Stale * 2);
        node.Kill();
        var killedAt = DateTime.UtcNow;
        var takenAt = await waiter.SeenAtAsync("LOCKED", Stale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"waiter clock {hours:+0;-0} h: not taken during {(Stale * 2).TotalSeconds} s of refreshes; taken {(takenAt - killedAt).TotalSeconds:0.00} s after the holder's kill");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.InRange(takenAt - killedAt, Stale - TimeSpan.FromSeconds(2), Stale + TimeSpan.FromSeconds(10));
        await waiter.ReleaseAsync();
    }
}
