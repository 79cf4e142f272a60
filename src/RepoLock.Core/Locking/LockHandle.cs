using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// A held lock. Every lease interval (2 s) it checks that the lock is still this holder's: the same directory (device and inode) is there,
/// its owner record is not another holder's, and its mtime is one this holder saw it carry; then it renews its lease by rewriting the owner
/// record with a new counter. Every heartbeat (the stale age / 2, at most 10 s) it also refreshes the directory's mtime, for
/// proper-lockfile. Otherwise the lock is lost: <see cref="ThrowIfLost"/> stops the work before it changes the repo.
/// </summary>
/// <remarks>
/// <para>A holder that could not renew for longer than <see cref="LockSettings.LeaseFence"/> (it was paused: SIGSTOP, a stalled VM, a
/// hung mount) counts its lock as lost even if it still looks like its own: a waiter on another host may have judged it dead and be taking
/// it over. The fence is two renewals short of the grace the record declares, so any renewal the holder starts before then is on the
/// volume before a waiter's grace can run out.</para>
/// <para>On a shared file system the client may cache attributes, so the mtime read back after a refresh can still be the old one, and the
/// new one shows up a beat later. That is not a lost lock: after a refresh we could not see, a mtime newer than ours by no more than the
/// time since our mtime last changed (our refreshes cannot carry a later time), and well below half the stale age (the least a takeover's
/// mtime is past ours), is taken as our own refresh showing up late. The owner record is read by content, which such caches do not keep,
/// so a RepoLock taker is noticed even while the cached mtime still looks like ours.</para>
/// </remarks>
internal sealed class LockHandle : IDisposable
{
    private const int RememberedMtimes = 8;
    private static readonly TimeSpan WholeSecondSlack = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly LockOwnerRecord _record;
    private readonly IRepoLockLog _log;
    private readonly ILockFileSystem _fs;
    private readonly LockSettings _settings;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly DirStamp? _identity;
    private readonly List<DateTime> _seen = [];
    private long _changedAt;
    private long _renewedAt;
    private long _touchedAt;
    private long _counter;
    private DateTime _mtime;
    private bool _unseenRefresh;
    private bool _recordWritten;
    private bool _expired;
    private bool _released;

    private LockHandle(string lockDir, DirStamp? identity, DateTime mtime, LockOwnerRecord record, long renewedAt, LockSettings settings, ILockFileSystem fs, TimeProvider time, IRepoLockLog log)
    {
        _time = time;
        _changedAt = _touchedAt = renewedAt;
        _renewedAt = renewedAt;
        LockDir = lockDir;
        _identity = identity;
        _mtime = mtime;
        _seen.Add(mtime);
        _record = record;
        _recordWritten = record.LeaseCounter > 0;
        _counter = record.LeaseCounter;
        _settings = settings;
        _fs = fs;
        _log = log;
        var interval = settings.EffectiveLeaseInterval;
        _timer = time.CreateTimer(_ => Refresh(touch: _time.GetElapsedTime(_touchedAt) >= _settings.EffectiveHeartbeat - (interval / 2)), null, interval, interval);
    }

    public string LockDir { get; }

    public string? LostReason { get; private set; }

    public bool IsLost => LostReason is not null;

    /// <summary>The random token of this acquisition in the owner record.</summary>
    internal string OwnNonce => _record.Nonce;

    internal static LockHandle Take(string lockDir, string purpose, MachineIdentity self, LockSettings settings, ILockFileSystem fs, TimeProvider time, IRepoLockLog log)
    {
        var started = time.GetTimestamp();
        var identity = fs.Stat(lockDir);
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
            Nonce = Guid.NewGuid().ToString("N"),
            LeaseIntervalMs = (int)settings.EffectiveLeaseInterval.TotalMilliseconds,
            LeaseGraceMs = (int)settings.EffectiveLeaseGrace.TotalMilliseconds,
        };
        try
        {
            record = record with { LeaseCounter = 1 };
            record.Write(lockDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a record the lock is still valid; waiters just cannot recover fast from our death.
            record = record with { LeaseCounter = 0 };
            log.Detail($"RepoLock: could not write the owner record for {lockDir}: {e.Message}");
        }

        return new LockHandle(lockDir, identity is { HasIdentity: true } ? identity : null, mtime, record, started, settings, fs, time, log);
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

    /// <summary>Check, refresh the mtime and renew the lease now (the timer does this on its own; tests call it to avoid waiting).</summary>
    public void Heartbeat() => Refresh(touch: true);

    private void Refresh(bool touch)
    {
        try
        {
            lock (_gate)
            {
                if (_released || IsLost)
                {
                    return;
                }

                var started = _time.GetTimestamp();
                var silent = _time.GetElapsedTime(_renewedAt);
                if (silent > _settings.LeaseFence)
                {
                    _expired = true;
                    MarkLost($"this holder could not renew its lease for {silent.TotalSeconds:0.0} s (the process was paused or starved, or the volume hung), " +
                             $"and after {_settings.EffectiveLeaseGrace.TotalSeconds:0} s a waiter may judge it dead and take the lock over. Keep builds from being suspended while they install");
                    return;
                }

                if (WhyNotOurs(out var current) is { } reason)
                {
                    MarkLost(reason);
                    return;
                }

                if (touch)
                {
                    WriteRecord(touching: true); // if we die between the touch and the next write, the record still describes the lock
                    if (!_fs.Touch(LockDir))
                    {
                        MarkLost("the lock directory was removed by another process (a forced unlock, or a waiter that judged it stale)");
                        return;
                    }

                    var after = _fs.GetMtimeUtc(LockDir) ?? current;
                    _unseenRefresh = after == current; // same whole second, or a cached attribute: the new mtime may show up later
                    See(after);
                    _touchedAt = started;
                }

                WriteRecord(touching: false);
                _renewedAt = started;
            }
        }
        catch (Exception e)
        {
            // Renewals run on a timer thread: they must never take the build host down. The next one tries again (within the fence).
            _log.Detail($"RepoLock: renewing the lock {LockDir} failed: {e.Message}");
        }
    }

    private void WriteRecord(bool touching)
    {
        if (_time.GetElapsedTime(_renewedAt) > _settings.LeaseFence)
        {
            // Paused between the checks above and this write for longer than the fence: a taker may hold the lock and its record now.
            // Writing ours over it would make the taker believe it lost the lock. The window left is the instant between here and the write.
            throw new IOException("the lease fence passed while renewing (this process was paused)");
        }

        (_record with { LastHeartbeatTicks = _mtime.Ticks, LeaseCounter = ++_counter, Touching = touching }).Write(LockDir);
        _recordWritten = true;
    }

    /// <summary>Why the lock at <see cref="LockDir"/> is not ours any more, or null while it is.</summary>
    private string? WhyNotOurs(out DateTime current)
    {
        current = default;
        if (_fs.GetMtimeUtc(LockDir) is not { } mtime)
        {
            return "the lock directory was removed by another process (a forced unlock, or a waiter that judged it stale)";
        }

        current = mtime;
        if (_identity is { } ours && _fs.Stat(LockDir) is { } now && !now.SameDirectory(ours))
        {
            return $"another lock directory ({now}) stands in its place: another process took the lock over";
        }

        if (OtherHolder(LockOwnerRecord.TryRead(LockDir)) is { } other)
        {
            return $"{other} holds it now: its owner record replaced ours";
        }

        return IsOurs(mtime) ? null : $"its mtime is {mtime:O}, not the {_mtime:O} this holder last saw: another process took it over";
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
            && late <= Min(_time.GetElapsedTime(_changedAt) + WholeSecondSlack, _settings.StaleAge / 2))
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

    /// <summary>
    /// Release, acting only on this holder's own lock: while the lock is still ours (a lease that merely expired is still released if
    /// nobody took the lock meanwhile), the lock directory is renamed aside (<c>&lt;lock&gt;.stale-&lt;guid&gt;</c>: the lock is free from
    /// that instant), proved to be ours (device and inode), and deleted; then our owner record, only if it is still ours. A holder paused
    /// between its check and the rename, whose lock was broken and taken meanwhile, moves the new holder's directory aside, sees it is not
    /// its own, and puts it back (<c>RENAME_NOREPLACE</c>); where it cannot promise not to replace a third lock (NFS, FUSE) it removes the
    /// moved directory instead, and that holder stops with RL2002 at its next check. Never a bare <c>rmdir</c> of whatever stands there.
    /// </summary>
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
            if ((IsLost && !_expired) || WhyNotOurs(out _) is not null)
            {
                return; // not ours any more: leave the new holder alone
            }

            _settings.Checkpoint?.Invoke($"release-checked.{Path.GetFileName(LockDir)}");
            try
            {
                var aside = $"{LockDir}.stale-{Guid.NewGuid():N}";
                try
                {
                    Directory.Move(LockDir, aside);
                }
                catch (DirectoryNotFoundException)
                {
                    return; // broken and not retaken meanwhile: nothing of ours is left
                }

                // Ours: the same directory (device and inode) carrying an mtime this holder saw. An inode freed when a breaker removed our
                // lock can be reused at once by the next holder's mkdir; that directory carries a fresh mtime.
                var moved = _fs.Stat(aside);
                if (moved is { } m && (_identity is not { } ours || m.SameDirectory(ours)) && IsOurs(m.Mtime))
                {
                    TreeDelete.TryDelete(aside);
                    DeleteOwnRecord();
                    return;
                }

                StaleLock.PutBackOrRemove(aside, LockDir, _log, "released by a holder whose lock had been taken over meanwhile");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning(ErrorCodes.LockLost, $"RepoLock: could not release the lock {LockDir}: {e.Message}. It becomes stale after the stale age.");
            }
        }
    }

    /// <summary>Removes the owner record if it is still this acquisition's (a new holder's record is left alone).</summary>
    private void DeleteOwnRecord() => LockOwnerRecord.DeleteIfSame(LockDir, _record);
}
