using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// One waiter's patience for one lock. It owns everything a wait needs: the attempts, what it has watched of the lock (its
/// <see cref="StaleWatch"/>), the last holder it saw, the decision to break a lock, the periodic "held by" report and the timeout.
/// </summary>
internal sealed class LockWaiter
{
    private readonly LockService _service;
    private readonly string _subject;
    private readonly StaleWatch _watch;
    private long? _waitingSince;
    private TimeSpan _nextReport;

    internal LockWaiter(LockService service, string lockDir, string subject)
    {
        _service = service;
        LockDir = lockDir;
        _subject = subject;
        _watch = new StaleWatch(service.Time, service.ServerClock);
        _nextReport = service.Settings.ReportInterval;
    }

    public string LockDir { get; }

    public LockHolderInfo? LastHolder { get; private set; }

    private LockSettings Settings => _service.Settings;

    /// <summary>One non-blocking attempt: take the lock, or break it if its holder is judged gone and take it. Null while a live holder has it.</summary>
    public LockHandle? TryAcquire(string purpose)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (_service.TryCreate(LockDir, purpose) is { } handle)
            {
                return handle;
            }

            // Fresh reads: statx asks the server (not the attribute cache), and opening the record revalidates it (close-to-open).
            if (NativeFs.Stat(LockDir) is not { } stamp)
            {
                continue; // released between our mkdir and stat: try again at once
            }

            var owner = LockOwnerRecord.TryRead(LockDir, out var recordText);
            var folder = Path.GetDirectoryName(LockDir)!;

            // Between probes a waiter estimates the server's clock; an estimate may only say "not yet": a break is decided on a fresh probe.
            var estimate = _watch.EstimateServerNow();
            var serverNow = estimate ?? _watch.Probe(folder);
            var reason = WhyBreakable(owner, recordText, stamp, serverNow);
            if (reason is not null && estimate is not null)
            {
                serverNow = _watch.Probe(folder);
                reason = WhyBreakable(owner, recordText, stamp, serverNow);
            }

            LastHolder = new LockHolderInfo(LockDir, owner, stamp.Mtime, serverNow);
            if (reason is null)
            {
                return null;
            }

            if (StaleLock.TryBreak(LockDir, stamp, recordText, _service.Log))
            {
                _service.Log.Info($"RepoLock: took over the lock {LockDir}: {reason}.");
            }
        }

        return null;
    }

    /// <summary>Why the lock may be broken, or null while its holder may be alive.</summary>
    internal string? WhyBreakable(LockOwnerRecord? owner, string? recordText, DirStamp stamp, DateTime? serverNow)
    {
        var self = _service.Self;
        var mtime = stamp.Mtime;
        var describes = owner is not null && owner.Describes(mtime, Settings.StaleAge);

        // Watched on every poll, whatever decides this time, so the lease's clock runs from the first sight of this exact state.
        var leaseUnchanged = _watch.LeaseUnchangedFor(stamp, recordText);

        if (Settings.FastRecovery && describes && self.IsSameMachine(owner!.MachineId, owner.Host)
            && !MachineIdentity.IsProcessAlive(owner.ProcessId, owner.ProcessStart))
        {
            // The proof names one lock incarnation by its mtime, but mtimes are coarse (a few ms on ext4, whole seconds on some mounts):
            // a new lock taken in the same tick as the dead holder's last heartbeat would carry the same mtime, and the dead holder may have
            // released normally just before it exited. So the lock must also be older than any such tick: then a lock made after we looked
            // cannot carry its mtime, and the break's check of the moved-aside lock is a proof.
            var coarse = mtime.Ticks % TimeSpan.TicksPerSecond == 0;
            var minimumAge = coarse ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(1);
            if (serverNow is { } now && now - mtime >= minimumAge)
            {
                return $"its holder, process {owner.ProcessId} on this machine ({owner.Host}), is no longer running";
            }
        }

        // The lease: a RepoLock holder rewrites its record every couple of seconds. The same directory (device, inode) with the same mtime
        // and the same record bytes for the declared grace, on this waiter's monotonic clock, is a holder that stopped renewing: dead, or
        // paused past its grace (it counts its lock as lost before that). Only a record that describes this lock incarnation counts: a
        // leftover record beside a Node worker's lock does not.
        if (describes && stamp.HasIdentity && owner!.LeaseGrace is { } grace && leaseUnchanged >= grace)
        {
            return $"its holder, {owner.Host} process {owner.ProcessId}, has not renewed its lease for {grace.TotalSeconds:0} s " +
                   "(its owner record and the lock directory stayed exactly the same while we watched)";
        }

        if (serverNow is { } n && n - mtime > Settings.StaleAge)
        {
            return $"it was last refreshed {(n - mtime).TotalSeconds:0} s ago by the file server's clock, more than the stale age of {Settings.StaleAge.TotalSeconds:0} s";
        }

        // A lock whose mtime lies in the future (a holder's clock ahead) still goes stale once we have watched it unchanged for the stale age.
        if (_watch.UnchangedFor(mtime) > Settings.StaleAge)
        {
            return $"its mtime has not changed for {Settings.StaleAge.TotalSeconds:0} s while we waited";
        }

        return null;
    }

    /// <summary>Waits one poll interval; reports the holder every few seconds; throws RL2001 past the timeout.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        var time = _service.Time;
        if (_waitingSince is null)
        {
            _waitingSince = time.GetTimestamp();
            _service.Log.Detail($"RepoLock: {_subject}: lock {LockDir} is held by {HolderText}; waiting.");
        }

        var waited = time.GetElapsedTime(_waitingSince.Value);
        if (waited >= _nextReport)
        {
            _nextReport += Settings.ReportInterval;
            _service.Log.Info($"RepoLock: waiting {waited.TotalSeconds:0} s for {_subject}: the lock {LockDir} is held by {HolderText}. " +
                              $"It is taken over when the holder is gone: at once on this machine, after its lease's grace without a renewal for a RepoLock holder elsewhere, after {Settings.StaleAge.TotalSeconds:0} s without a refresh otherwise.");
        }

        if (waited >= Settings.Timeout)
        {
            throw Errors.Timeout(_subject, LockDir, HolderText, waited);
        }

        await Task.Delay(Settings.PollInterval, time, cancellationToken).ConfigureAwait(false);
    }

    private string HolderText => LastHolder?.Describe() ?? "another process";
}
