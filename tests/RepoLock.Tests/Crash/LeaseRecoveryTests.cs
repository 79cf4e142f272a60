using System.Diagnostics;
using RepoLock.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// The lease with real processes and the production stale age (300 s): a RepoLock holder in another PID namespace (another machine, as far
/// as RepoLock can tell) is never taken over while it lives, and is taken over about a grace (15 s) after it is killed, not after 300 s.
/// A holder stopped with SIGSTOP past its grace loses its lock, and says so before it changes anything once it runs again.
/// </summary>
public sealed class LeaseRecoveryTests : IDisposable
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Grace = LockSettings.DefaultLeaseGrace;

    /// <summary>How long a live holder is watched: past its grace by more than one observation and one poll, so a waiter that would judge it
    /// dead on the lease's clock has had every chance to.</summary>
    private static readonly TimeSpan Alive = Grace + LockSettings.DefaultObserveInterval + LockSettings.DefaultMaxPollInterval;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(60); // the target is ~15 s; generous for a loaded 2-core machine

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("lease-real");

    public LeaseRecoveryTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "adaptor.lock");

    [SkippableFact]
    public async Task A_killed_holder_in_another_pid_namespace_is_taken_over_after_its_lease_grace_not_the_stale_age()
    {
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        using var foreign = HostLocks.Hold(Target, Stale, prefix: Unshare.Prefix);
        await foreign.WaitForLineAsync("LOCKED", Step);
        var record = LockOwnerRecord.TryRead(Target + ".lock")!;
        Assert.NotEqual(MachineIdentity.Current.MachineId, record.MachineId);

        using var waiter = HostLocks.Hold(Target, Stale);
        await waiter.WaitForLineAsync($"is held by {record.Host} process {record.ProcessId}", Step);
        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Alive); // a live holder outlasts its grace
        var renewals = LockOwnerRecord.TryRead(Target + ".lock")!.LeaseCounter - record.LeaseCounter;
        foreign.Kill();
        var killedAt = DateTime.UtcNow;
        var takenAt = await waiter.SeenAtAsync("LOCKED", TakeoverBound);

        var takeover = takenAt - killedAt;
        _output.WriteLine($"RepoLock holder in another PID namespace, stale age 300 s, lease 2 s / {Grace.TotalSeconds} s: alive for {Alive.TotalSeconds} s of waiting ({renewals} renewals), never taken; killed -> taken over in {takeover.TotalSeconds:0.00} s");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.True(renewals >= 5, $"only {renewals} renewals in {Alive.TotalSeconds} s");
        Assert.InRange(takeover, Grace - TimeSpan.FromSeconds(3), TakeoverBound); // its last renewal was up to 2 s before the kill
        Assert.Contains("has not renewed its lease for 15 s", waiter.Output);
        await waiter.ReleaseAsync();
    }

    [SkippableFact]
    public async Task A_live_holder_elsewhere_that_renews_only_its_record_is_never_taken_over_while_its_lock_mtime_stands_still()
    {
        // The heartbeat's mtime touch every 60 s, the record renewed every 2 s: only the record says this holder lives. A waiter that
        // watched the directory alone (ignoring renewals) would take it over after the 15 s grace.
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        using var foreign = HostLocks.Hold(Target, Stale, heartbeat: TimeSpan.FromSeconds(60), prefix: Unshare.Prefix);
        await foreign.WaitForLineAsync("LOCKED", Step);
        var record = LockOwnerRecord.TryRead(Target + ".lock")!;
        var mtime = Directory.GetLastWriteTimeUtc(Target + ".lock");

        using var waiter = HostLocks.Hold(Target, Stale);
        await waiter.WaitForLineAsync($"is held by {record.Host} process {record.ProcessId}", Step);
        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Grace * 2);
        var renewals = LockOwnerRecord.TryRead(Target + ".lock")!.LeaseCounter - record.LeaseCounter;

        _output.WriteLine($"holder elsewhere renewing only its record ({renewals} renewals, lock mtime unchanged: {Directory.GetLastWriteTimeUtc(Target + ".lock") == mtime}) for {(Grace * 2).TotalSeconds} s: taken over: {takenWhileAlive}");
        Assert.Equal(mtime, Directory.GetLastWriteTimeUtc(Target + ".lock")); // the directory stood still: only the record moved
        Assert.True(renewals >= 5, $"only {renewals} renewals");
        Assert.False(takenWhileAlive, waiter.Output);
        foreign.Kill();
        await waiter.WaitForLineAsync("LOCKED", TakeoverBound);
        await waiter.ReleaseAsync();
    }

    [SkippableFact]
    public async Task A_holder_stopped_past_its_grace_loses_its_lock_and_says_so_before_changing_anything()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs SIGSTOP");
        using var holder = HostLocks.Hold(Target, Stale);
        await holder.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(Target, Stale);
        await waiter.WaitForLineAsync($"process {holder.Id}", Step);

        Signal("STOP", holder.Id); // alive, on this machine, but silent: only the lease can tell
        var stoppedAt = DateTime.UtcNow;
        var takenAt = await waiter.SeenAtAsync("LOCKED", TakeoverBound);
        Signal("CONT", holder.Id);
        holder.WriteLine("check");
        await holder.WaitForLineAsync("LOST", Step);

        _output.WriteLine($"holder SIGSTOPped: taken over {(takenAt - stoppedAt).TotalSeconds:0.00} s after the stop; on SIGCONT it reported: {holder.Stdout.Split('\n').Last(l => l.StartsWith("LOST", StringComparison.Ordinal))}");
        Assert.Contains("LOST RL2002", holder.Stdout);
        Assert.DoesNotContain("STILL-HELD", holder.Stdout);
        Assert.Contains("has not renewed its lease", waiter.Output);
        Assert.Equal(waiter.Id, LockOwnerRecord.TryRead(Target + ".lock")!.ProcessId); // the waiter's lock was left alone
        await holder.ReleaseAsync();
        Assert.True(Directory.Exists(Target + ".lock"), "the stopped holder's release removed the new holder's lock");
        await waiter.ReleaseAsync();
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
