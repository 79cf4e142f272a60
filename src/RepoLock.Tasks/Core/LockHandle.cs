namespace RepoLock.Core;

/// <summary>
/// A held lock. A heartbeat refreshes the lock directory's mtime and checks that it is still the mtime this holder wrote;
/// if the directory is gone or another mtime is there, the lock is lost: <see cref="ThrowIfLost"/> stops the work before it changes the repo.
/// </summary>
public sealed class LockHandle : IDisposable
{
    private readonly object _gate = new();
    private readonly LockOwnerRecord _record;
    private readonly IRepoLockLog _log;
    private readonly Timer _timer;
    private DateTime _mtime;
    private bool _released;

    private LockHandle(string lockDir, DateTime mtime, LockOwnerRecord record, TimeSpan heartbeat, IRepoLockLog log)
    {
        LockDir = lockDir;
        _mtime = mtime;
        _record = record;
        _log = log;
        _timer = new Timer(_ => Heartbeat(), null, heartbeat, heartbeat);
    }

    public string LockDir { get; }

    public string? LostReason { get; private set; }

    public bool IsLost => LostReason is not null;

    internal static LockHandle Take(string lockDir, string purpose, MachineIdentity self, LockSettings settings, IRepoLockLog log)
    {
        var mtime = NativeFs.GetMtimeUtc(lockDir) ?? DateTime.UtcNow;
        var record = new LockOwnerRecord
        {
            Host = self.Host,
            MachineId = self.MachineId,
            ProcessId = self.ProcessId,
            ProcessStart = self.ProcessStart,
            Purpose = purpose,
            AcquiredAt = DateTimeOffset.UtcNow,
            HeartbeatIntervalMs = (int)settings.EffectiveHeartbeat.TotalMilliseconds,
            LastHeartbeatTicks = mtime.Ticks,
            RepoLockVersion = RepoLockInfo.Version,
        };
        try
        {
            record.Write(lockDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a record the lock is still valid; waiters just cannot recover fast from our death.
            log.Detail($"RepoLock: could not write the owner record for {lockDir}: {e.Message}");
        }

        return new LockHandle(lockDir, mtime, record, settings.EffectiveHeartbeat, log);
    }

    /// <summary>Checks the lock now (a heartbeat) and throws RL2002 if it is no longer ours. Called before every step that changes the repo.</summary>
    public void ThrowIfLost(string subject)
    {
        Heartbeat();
        if (LostReason is { } reason)
        {
            throw Errors.Lost(subject, LockDir, reason);
        }
    }

    /// <summary>Refresh now (the timer does this on its own; tests call it to avoid waiting).</summary>
    public void Heartbeat()
    {
        try
        {
            lock (_gate)
            {
                if (_released || IsLost)
                {
                    return;
                }

                var current = NativeFs.GetMtimeUtc(LockDir);
                if (current is null)
                {
                    MarkLost("the lock directory was removed by another process");
                    return;
                }

                if (current.Value != _mtime)
                {
                    MarkLost($"its mtime is {current.Value:O}, not the {_mtime:O} this holder wrote: another process took it over");
                    return;
                }

                if (!NativeFs.Touch(LockDir))
                {
                    MarkLost("the lock directory was removed by another process");
                    return;
                }

                _mtime = NativeFs.GetMtimeUtc(LockDir) ?? _mtime;
                (_record with { LastHeartbeatTicks = _mtime.Ticks }).Write(LockDir);
            }
        }
        catch (Exception e)
        {
            // A heartbeat runs on a timer thread: it must never take the build host down. The next beat tries again.
            _log.Detail($"RepoLock: heartbeat of {LockDir} failed: {e.Message}");
        }
    }

    private void MarkLost(string reason)
    {
        LostReason = reason;
        _log.Warning(Errors.LockLost, $"RepoLock: lost the lock {LockDir}: {reason}.");
    }

    /// <summary>Release: invalidate the owner record, then rmdir, but only while the lock is still ours.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            if (_released)
            {
                return;
            }

            _released = true;
            if (IsLost || NativeFs.GetMtimeUtc(LockDir) != _mtime)
            {
                return; // not ours any more: leave the new holder alone
            }

            try
            {
                LockOwnerRecord.Delete(LockDir);
                Directory.Delete(LockDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning(Errors.LockLost, $"RepoLock: could not release the lock {LockDir}: {e.Message}. It becomes stale after the stale age.");
            }
        }
    }
}
