using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// A holder on "another machine" (its own PID namespace, as a container on another node would be) that dies: its pid cannot be checked
/// from here, so the lock must wait out the stale age, and the waiter must say who it waits for.
/// </summary>
public sealed class ForeignMachineTests : IDisposable
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(6); // a refresh every second: a loaded 2-core machine stalls far less than 5 s
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("foreign");

    public ForeignMachineTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public async Task A_killed_holder_in_another_pid_namespace_is_taken_over_only_after_the_stale_age()
    {
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        var target = _dir.Combine(".locks", "adaptor.lock");
        using var foreign = HostLocks.Hold(target, Stale, heartbeat: TimeSpan.FromSeconds(1), prefix: Unshare.Prefix);
        await foreign.WaitForLineAsync("LOCKED", Step);
        var record = LockOwnerRecord.TryRead(target + ".lock")!;
        Assert.NotEqual(MachineIdentity.Current.MachineId, record.MachineId);

        using var waiter = HostLocks.Hold(target, Stale);
        await waiter.WaitForLineAsync($"is held by {record.Host} process {record.ProcessId} (hold for a test)", Step);
        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Stale * 1.5);
        foreign.Kill();
        var killedAt = DateTime.UtcNow;
        var lastRefresh = Directory.GetLastWriteTimeUtc(target + ".lock");
        var takenAt = await waiter.SeenAtAsync("LOCKED", Stale + TimeSpan.FromSeconds(15));

        _output.WriteLine($"holder in PID namespace ({record.Host} process {record.ProcessId}) killed: taken {(takenAt - lastRefresh).TotalSeconds:0.00} s after its last refresh, {(takenAt - killedAt).TotalSeconds:0.00} s after the kill (stale age {Stale.TotalSeconds} s)");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.InRange(takenAt - lastRefresh, Stale - TimeSpan.FromMilliseconds(50), Stale + TimeSpan.FromSeconds(10));
        Assert.Contains("more than the stale age", waiter.Output);
        Assert.DoesNotContain("no longer running", waiter.Output);
        await waiter.ReleaseAsync();
    }
}
