using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// A held lock. A heartbeat refreshes the lock directory's mtime and checks that the lock is still this holder's: the directory is there,
/// its owner record is not another holder's, and its mtime is one this holder saw it carry. Otherwise the lock is lost:
/// <see cref="ThrowIfLost"/> stops the work before it changes the repo.
/// </summary>
/// <remarks>
/// On a shared file system the client may cache attributes, so the mtime read back after a refresh can still be the old one, and the new
/// one shows up a beat later. That is not a lost lock: after a refresh we could not see, a mtime newer than ours by no more than the time
/// since our mtime last changed (our refreshes cannot carry a later time), and well below half the stale age (the least a takeover's mtime
/// is past ours), is taken as our own refresh showing up late. The owner record is read by content, which
/// such caches do not keep, so a RepoLock taker is noticed even while the cached mtime still looks like ours.
/// </remarks>
internal sealed class LockHandle : IDisposable
{
    private const int RememberedMtimes = 8;
    private static readonly TimeSpan WholeSecondSlack = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly LockOwnerRecord _record;
    private readonly IRepoLockLog _log;
    private readonly ILockFileSystem _fs;
    private readonly TimeSpan _staleAge;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _changedAt;
    private readonly List<DateTime> _seen = [];
    private DateTime _mtime;
    private bool _unseenRefresh;
    private bool _recordWritten;
    private bool _released;

    private LockHandle(string lockDir, DateTime mtime, LockOwnerRecord record, bool recordWritten, LockSettings settings, ILockFileSystem fs, TimeProvider time, IRepoLockLog log)
    {
        _time = time;
        _changedAt = time.GetTimestamp();
        LockDir = lockDir;
        _mtime = mtime;
        _seen.Add(mtime);
        _record = record;
        _recordWritten = recordWritten;
        _staleAge = settings.StaleAge;
        _fs = fs;
        _log = log;
        _timer = time.CreateTimer(_ => Heartbeat(), null, settings.EffectiveHeartbeat, settings.EffectiveHeartbeat);
    }

    public string LockDir { get; }

    public string? LostReason { get; private set; }

    public bool IsLost => LostReason is not null;

    internal static LockHandle Take(string lockDir, string purpose, MachineIdentity self, LockSettings settings, ILockFileSystem fs, TimeProvider time, IRepoLockLog log)
    {
        var mtime = fs.GetMtimeUtc(lockDir) ?? time.GetUtcNow().UtcDateTime;
        var record = new LockOwnerRecord
        {
            Host = self.Host,
            MachineId = self.MachineId,
            ProcessId = self.ProcessId,
            ProcessStart = self.ProcessStart,
            Purpose = purpose,
            AcquiredAt = time.GetUtcNow(),
            HeartbeatIntervalMs = (int)settings.EffectiveHeartbeat.TotalMilliseconds,
            LastHeartbeatTicks = mtime.Ticks,
            RepoLockVersion = RepoLockInfo.Version,
        };
        var written = false;
        try
        {
            record.Write(lockDir);
            written = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a record the lock is still valid; waiters just cannot recover fast from our death.
            log.Detail($"RepoLock: could not write the owner record for {lockDir}: {e.Message}");
        }

        return new LockHandle(lockDir, mtime, record, written, settings, fs, time, log);
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

                var current = _fs.GetMtimeUtc(LockDir);
                if (current is null)
                {
                    MarkLost("the lock directory was removed by another process");
                    return;
                }

                if (OtherHolder(LockOwnerRecord.TryRead(LockDir)) is { } other)
                {
                    MarkLost($"{other} holds it now: its owner record replaced ours");
                    return;
                }

                if (!IsOurs(current.Value))
                {
                    MarkLost($"its mtime is {current.Value:O}, not the {_mtime:O} this holder last saw: another process took it over");
                    return;
                }

                if (!_fs.Touch(LockDir))
                {
                    MarkLost("the lock directory was removed by another process");
                    return;
                }

                var after = _fs.GetMtimeUtc(LockDir) ?? current.Value;
                _unseenRefresh = after == current.Value; // same whole second, or a cached attribute: the new mtime may show up later

                See(after);
                (_record with { LastHeartbeatTicks = _mtime.Ticks }).Write(LockDir);
                _recordWritten = true;
            }
        }
        catch (Exception e)
        {
            // A heartbeat runs on a timer thread: it must never take the build host down. The next beat tries again.
            _log.Detail($"RepoLock: heartbeat of {LockDir} failed: {e.Message}");
        }
    }

    /// <summary>Whether the lock directory's mtime is one this holder put there.</summary>
    private bool IsOurs(DateTime mtime)
    {
        if (mtime == _mtime || _seen.Contains(mtime))
        {
            return true; // the current one, or an older one of ours a cache still shows
        }

        // A refresh whose result we could not read back may show up now: its mtime is at most the time since ours last changed past it.
        // A takeover cannot look like that: it needs the lock to look a stale age old to a waiter whose cache lags less than half the
        // stale age, so its mtime is at least half a stale age past our last one.
        var late = mtime - _mtime;
        if (_unseenRefresh && late > TimeSpan.Zero
            && late <= Min(_time.GetElapsedTime(_changedAt) + WholeSecondSlack, _staleAge / 2))
        {
            _log.Detail($"RepoLock: {LockDir}: a refresh of ours shows up late (attribute caching): mtime {mtime:O}, {late.TotalSeconds:0.###} s after {_mtime:O}.");
            See(mtime);
            return true;
        }

        return false;
    }

    private void See(DateTime mtime)
    {
        if (mtime != _mtime)
        {
            _changedAt = _time.GetTimestamp();
        }

        _mtime = mtime;
        if (!_seen.Contains(mtime))
        {
            _seen.Add(mtime);
            if (_seen.Count > RememberedMtimes)
            {
                _seen.RemoveAt(0);
            }
        }
    }

    /// <summary>Who else the owner record names, if it names another acquisition than ours (a taker writes its own record first thing).</summary>
    private string? OtherHolder(LockOwnerRecord? owner) =>
        owner is not null && _recordWritten && !owner.IsSameAcquisition(_record) ? $"{owner.Host} process {owner.ProcessId} ({owner.Purpose})" : null;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void MarkLost(string reason)
    {
        LostReason = reason;
        _log.Warning(ErrorCodes.LockLost, $"RepoLock: lost the lock {LockDir}: {reason}.");
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
            if (IsLost || _fs.GetMtimeUtc(LockDir) is not { } current || OtherHolder(LockOwnerRecord.TryRead(LockDir)) is not null || !IsOurs(current))
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
                _log.Warning(ErrorCodes.LockLost, $"RepoLock: could not release the lock {LockDir}: {e.Message}. It becomes stale after the stale age.");
            }
        }
    }
}
