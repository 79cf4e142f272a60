using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// Judges a held lock for the tool, by the rule waiters use (<see cref="LockWaiter.WhyBreakable"/>): dead when a waiter would break it now.
/// Alive when its holder is a running process on this machine, or it is refreshed on its holder's schedule; unknown otherwise.
/// </summary>
internal static class LockJudge
{
    /// <summary>Slack on a holder's refresh schedule: whole-second mtimes, a busy machine.</summary>
    private static readonly TimeSpan ScheduleSlack = TimeSpan.FromSeconds(5);

    /// <summary>The lock's holder and verdict, or null when the lock is not held (any more).</summary>
    public static LockInfo? Judge(LockService service, string alias, string lockDir)
    {
        if (NativeFs.Stat(lockDir) is not { } stamp)
        {
            return null;
        }

        var mtime = stamp.Mtime;
        var owner = LockOwnerRecord.TryRead(lockDir, out var recordText);
        var serverNow = ServerClock.Probe(Path.GetDirectoryName(lockDir)!);
        var holder = new LockHolderInfo(lockDir, owner, mtime, serverNow);
        var current = owner is not null && !holder.OwnerIsOlderThanLock ? owner : null;
        var age = serverNow - mtime;

        var (verdict, why) = new LockWaiter(service, lockDir, $"inspect {alias}").WhyBreakable(owner, recordText, stamp, serverNow) is { } reason
            ? (LockVerdict.Dead, reason)
            : Alive(service, current, age);
        return new LockInfo(alias, lockDir, holder.Describe(), current?.Host, current?.ProcessId, current?.AcquiredAt, mtime, age, verdict, why)
        {
            Stamp = stamp,
            RecordText = recordText,
        };
    }

    private static (LockVerdict, string) Alive(LockService service, LockOwnerRecord? owner, TimeSpan? age)
    {
        var stale = service.Settings.StaleAge;
        if (owner is not null && service.Self.IsSameMachine(owner.MachineId, owner.Host))
        {
            return MachineIdentity.IsProcessAlive(owner.ProcessId, owner.ProcessStart)
                ? (LockVerdict.Alive, $"its holder, process {owner.ProcessId} on this machine, is running")
                : (LockVerdict.Unknown, $"its holder, process {owner.ProcessId} on this machine, is gone, but the lock cannot be proved its own yet (under two seconds old, or refreshed after its record); waiters break it once it can, or past the stale age");
        }

        if (age is not { } a)
        {
            return (LockVerdict.Unknown, "the file server's clock could not be read (the locks folder is not writable), so its age is unknown");
        }

        var schedule = owner is not null ? TimeSpan.FromMilliseconds(owner.HeartbeatIntervalMs) : stale / 2; // proper-lockfile refreshes every stale/2
        return a <= schedule + ScheduleSlack
            ? (LockVerdict.Alive, $"refreshed {Math.Max(0, a.TotalSeconds):0} s ago, on its holder's schedule (every {schedule.TotalSeconds:0} s)")
            : (LockVerdict.Unknown, $"not refreshed for {a.TotalSeconds:0} s by a holder on another machine; waiters break it once that passes the stale age of {stale.TotalSeconds:0} s");
    }
}
