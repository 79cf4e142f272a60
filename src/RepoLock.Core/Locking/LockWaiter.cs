using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// One waiter's patience for one lock. It owns everything a wait needs: the attempts, what it has watched of the lock (its
/// <see cref="StaleWatch"/>), the last holder it saw, the decision to break a lock, the periodic "held by" report and the timeout.
/// </summary>
/// <remarks>
/// <para>A wait is quiet on the file server, because hundreds of agents may wait on one export at once. Each attempt is one <c>mkdir</c>,
/// made again after pauses that grow from <see cref="LockSettings.PollInterval"/> to <see cref="LockSettings.MaxPollInterval"/>
/// (<see cref="PollSchedule"/>). What the lock is (a <c>statx</c> of its directory and a read of its owner record) is observed at the
/// lease's own pace, every <see cref="LockSettings.ObserveInterval"/>, and exactly when a watched lease would run out, so a dead holder on
/// another machine is still taken over within its grace plus one observation. "Did the peer finish?" is asked of the repo only when the lock
/// was released, changed hands or changed on this machine (<see cref="ShouldCheckPeer"/>).</para>
/// <para>Between attempts the waiter listens to this machine's kernel (<see cref="LockFolderWatch"/>), so a release here wakes it at
/// once; and while the holder is a process on this machine, it asks the kernel every <see cref="LivenessInterval"/> whether that process
/// still runs (no file-server call), so a killed local holder is taken over in well under a second.</para>
/// </remarks>
internal sealed class LockWaiter : IDisposable
{
    /// <summary>How often a waiter asks the kernel whether a holder on this machine still runs (kill(pid, 0); nothing on the repo).</summary>
    internal static readonly TimeSpan LivenessInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>However quiet the lock looks, "did the peer finish?" is asked at least this often.</summary>
    internal static readonly TimeSpan PeerCheckEvery = TimeSpan.FromSeconds(30);

    private readonly LockService _service;
    private readonly string _subject;
    private readonly StaleWatch _watch;
    private readonly PollSchedule _polls;
    private readonly long _origin;
    private LockFolderWatch? _folderWatch;
    private bool _folderWatchTried;
    private long? _waitingSince;
    private TimeSpan _nextReport;
    private TimeSpan _attemptDue;
    private TimeSpan? _observeDue;
    private bool _observeNow = true;
    private (ulong Dev, ulong Ino, string? Nonce)? _lastSeen;
    private (int Pid, string Start)? _localHolder;
    private bool _localHolderGone;
    private bool _peerCheckDue = true;
    private TimeSpan? _lastPeerCheck;

    internal LockWaiter(LockService service, string lockDir, string subject)
    {
        _service = service;
        LockDir = lockDir;
        _subject = subject;
        _watch = new StaleWatch(service.Time, service.ServerClock);
        _polls = new PollSchedule(service.Settings.PollInterval, service.Settings.MaxPollInterval);
        _origin = service.Time.GetTimestamp();
        _nextReport = service.Settings.ReportInterval;
    }

    public string LockDir { get; }

    public LockHolderInfo? LastHolder { get; private set; }

    private LockSettings Settings => _service.Settings;

    private ILockFileSystem FileSystem => _service.FileSystem;

    /// <summary>Time since this waiter was made, on the waiter's monotonic clock.</summary>
    private TimeSpan Now => _service.Time.GetElapsedTime(_origin);

    /// <summary>
    /// One non-blocking attempt: take the lock, or break it if its holder is judged gone and take it. Null while a live holder has it.
    /// Always one <c>mkdir</c>; the lock is looked at more closely only when an observation is due.
    /// </summary>
    public LockHandle? TryAcquire(string purpose)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (_service.TryCreate(LockDir, purpose) is { } handle)
            {
                return handle;
            }

            var now = Now;
            if (attempt == 0 && !_observeNow && !_localHolderGone && _observeDue is { } due && now < due)
            {
                break; // held, as last observed: the lease is observed at its own pace, not on every attempt
            }

            _observeNow = false;

            // Fresh reads: statx asks the server (not the attribute cache), and opening the record revalidates it (close-to-open).
            if (FileSystem.Stat(LockDir) is not { } stamp)
            {
                _peerCheckDue = true;
                continue; // released between our mkdir and stat: try again at once
            }

            var recordText = FileSystem.ReadOwnerRecord(LockDir);
            var owner = LockOwnerRecord.Parse(recordText);
            NoteHolder(stamp, owner);
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
            _observeDue = now + _watch.NextLook(Settings.ObserveInterval, Settings.StaleAge, owner, stamp, recordText, serverNow);
            if (reason is null)
            {
                break;
            }

            if (StaleLock.TryBreak(LockDir, stamp, recordText, _service.Log))
            {
                _service.Log.Info($"RepoLock: took over the lock {LockDir}: {reason}.");
            }
        }

        var pause = _polls.Next();
        _attemptDue = Now + pause;
        if (_observeDue is { } observe && observe < _attemptDue)
        {
            _attemptDue = observe;
        }

        return null;
    }

    /// <summary>
    /// Whether "did the peer finish?" is worth asking the repo now: at the start of a wait, once the lock was released, changed hands or
    /// changed on this machine, and at least every <see cref="PeerCheckEvery"/>. A true answer is used up by asking.
    /// </summary>
    public bool ShouldCheckPeer()
    {
        var now = Now;
        var due = _peerCheckDue || (_folderWatch?.HasChange ?? false) || _lastPeerCheck is not { } last || now - last >= PeerCheckEvery;
        if (due)
        {
            _peerCheckDue = false;
            _lastPeerCheck = now;
        }

        return due;
    }

    /// <summary>Remembers who holds the lock; a new lock directory or a new acquisition in the record means it changed hands.</summary>
    private void NoteHolder(DirStamp stamp, LockOwnerRecord? owner)
    {
        var seen = (stamp.Dev, stamp.Ino, owner?.Nonce);
        if (_lastSeen is { } last && last != seen)
        {
            _peerCheckDue = true;
            _localHolderGone = false;
            _polls.Restart(); // a new hold may be a short one (a peer that finds the adaptor installed)
        }

        _lastSeen = seen;
        _localHolder = Settings.FastRecovery && owner is not null && owner.MachineId == _service.Self.MachineId
            ? (owner.ProcessId, owner.ProcessStart)
            : null;
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

    /// <summary>
    /// Waits until the next attempt is due, or less: until the lock changes on this machine, or a holder on this machine is found gone.
    /// Reports the holder every few seconds; throws RL2001 past the timeout.
    /// </summary>
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

        if (!_folderWatchTried && Settings.Notifications)
        {
            _folderWatchTried = true;
            _folderWatch = LockFolderWatch.TryStart(LockDir, _service.Log);
        }

        var until = _attemptDue;
        var timeoutAt = Now + (Settings.Timeout - waited);
        if (timeoutAt < until)
        {
            until = timeoutAt;
        }

        while (Now < until)
        {
            // Whole milliseconds, rounded up: timers count in milliseconds, and a sub-millisecond delay that fires at once would spin.
            var step = TimeSpan.FromMilliseconds(Math.Ceiling((until - Now).TotalMilliseconds));
            var local = _localHolderGone ? null : _localHolder;
            if (local is not null && step > LivenessInterval)
            {
                step = LivenessInterval;
            }

            if (await LockFolderWatch.SleepAsync(_folderWatch, step, _service.Time, cancellationToken).ConfigureAwait(false))
            {
                _observeNow = true; // the lock's entry changed on this machine: a release, a new holder or a break
                _peerCheckDue = true;
                _folderWatch?.TakeChange();
                _polls.Restart();
                return;
            }

            if (local is { } l && !MachineIdentity.IsProcessAlive(l.Pid, l.Start))
            {
                // The holder on this machine is gone: judge the lock now, and at every attempt until it is broken (the fast path waits until
                // the lock is a second old), with short pauses again.
                _localHolderGone = true;
                _polls.Restart();
                return;
            }
        }
    }

    /// <summary>Stops listening for changes of the lock (the waiter's only resource).</summary>
    public void Dispose() => _folderWatch?.Dispose();

    private string HolderText => LastHolder?.Describe() ?? "another process";
}
