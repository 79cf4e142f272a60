using System.Diagnostics;

namespace RepoLock.Core;

/// <summary>
/// Cross-process, cross-host locks with the protocol of the npm package proper-lockfile 4.x, so Node workers and RepoLock builds exclude
/// each other: the lock for target file T is the directory <c>T.lock</c> (after symlinks in T are resolved); acquire is an atomic mkdir;
/// the holder refreshes the directory's mtime on a heartbeat; a lock older than the stale age may be broken; release is rmdir.
/// On top of that, RepoLock holders write an owner record next to the lock so a waiter on the same machine can prove a holder dead and
/// take over in about a second instead of waiting out the stale age.
/// </summary>
public sealed class LockService
{
    private readonly MachineIdentity _self;
    private readonly IClock _clock;
    private readonly IRepoLockLog _log;

    public LockService(LockSettings settings, MachineIdentity? self = null, IClock? clock = null, IRepoLockLog? log = null)
    {
        Settings = settings;
        _self = self ?? MachineIdentity.Current;
        _clock = clock ?? SystemClock.Instance;
        _log = log ?? NullLog.Instance;
    }

    public LockSettings Settings { get; }

    /// <summary>Test seam: how holders read and refresh their lock's mtime.</summary>
    internal ILockFileSystem FileSystem { get; init; } = NativeLockFileSystem.Instance;

    /// <summary>proper-lockfile's lock path for a target: realpath(target) + ".lock". The target file is created if missing.</summary>
    public static string LockDirFor(string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target))
        {
            try
            {
                using var _ = new FileStream(target, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (IOException) when (File.Exists(target))
            {
            }
        }

        return NativeFs.RealPath(target) + ".lock";
    }

    public LockWaiter StartWaiting(string target, string subject) => new(this, LockDirFor(target), subject, _clock, _log);

    /// <summary>Waits for the lock (reporting the holder every few seconds) and takes it.</summary>
    public async Task<LockHandle> AcquireAsync(string target, string purpose, string subject, CancellationToken cancellationToken)
    {
        var waiter = StartWaiting(target, subject);
        while (true)
        {
            var handle = waiter.TryAcquire(purpose);
            if (handle is not null)
            {
                return handle;
            }

            await waiter.PauseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One non-blocking attempt. Null when a live holder has it; <paramref name="holder"/> then says who.</summary>
    internal LockHandle? TryAcquireOnce(string lockDir, string purpose, StaleWatch watch, out LockHolderInfo? holder)
    {
        holder = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (NativeFs.TryCreateDirectory(lockDir))
            {
                return LockHandle.Take(lockDir, purpose, _self, Settings, FileSystem, _log);
            }

            var mtime = NativeFs.GetMtimeUtc(lockDir);
            if (mtime is null)
            {
                continue; // released between our mkdir and stat: try again at once
            }

            var owner = LockOwnerRecord.TryRead(lockDir);
            var folder = Path.GetDirectoryName(lockDir)!;

            // Between probes a waiter estimates the server's clock; an estimate may only say "not yet": a break is decided on a fresh probe.
            var estimate = watch.EstimateServerNow();
            var serverNow = estimate ?? watch.Probe(folder);
            var reason = WhyBreakable(owner, mtime.Value, serverNow, watch);
            if (reason is not null && estimate is not null)
            {
                serverNow = watch.Probe(folder);
                reason = WhyBreakable(owner, mtime.Value, serverNow, watch);
            }

            holder = new LockHolderInfo(lockDir, owner, mtime.Value, serverNow);
            if (reason is null)
            {
                return null;
            }

            if (TryBreak(lockDir, mtime.Value))
            {
                _log.Info($"RepoLock: took over the lock {lockDir}: {reason}.");
            }
        }

        return null;
    }

    private string? WhyBreakable(LockOwnerRecord? owner, DateTime mtime, DateTime? serverNow, StaleWatch watch)
    {
        if (Settings.FastRecovery && owner is not null && owner.MachineId == _self.MachineId
            && owner.LastHeartbeatTicks == mtime.Ticks
            && !MachineIdentity.IsProcessAlive(owner.ProcessId, owner.ProcessStart))
        {
            // The proof names one lock incarnation by its mtime, but mtimes are coarse (a few ms on ext4, whole seconds on some mounts):
            // a new lock taken in the same tick as the dead holder's last heartbeat would carry the same mtime, and the dead holder may have
            // released normally just before it exited. So the lock must also be older than any such tick: then a lock made after we looked
            // cannot carry its mtime, and TryBreak's check of the moved-aside lock is a proof.
            var coarse = mtime.Ticks % TimeSpan.TicksPerSecond == 0;
            var minimumAge = coarse ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(1);
            if (serverNow is { } now && now - mtime >= minimumAge)
            {
                return $"its holder, process {owner.ProcessId} on this machine ({owner.Host}), is no longer running";
            }
        }

        if (serverNow is { } n && n - mtime > Settings.StaleAge)
        {
            return $"it was last refreshed {(n - mtime).TotalSeconds:0} s ago by the file server's clock, more than the stale age of {Settings.StaleAge.TotalSeconds:0} s";
        }

        // A lock whose mtime lies in the future (a holder's clock ahead) still goes stale once we have watched it unchanged for the stale age.
        if (watch.UnchangedFor(mtime) > Settings.StaleAge)
        {
            return $"its mtime has not changed for {Settings.StaleAge.TotalSeconds:0} s while we waited";
        }

        return null;
    }

    /// <summary>Move the lock aside, prove it is the one judged breakable (same mtime), then remove it; otherwise put it back.</summary>
    private static bool TryBreak(string lockDir, DateTime judgedMtime)
    {
        var aside = $"{lockDir}.stale-{Guid.NewGuid():N}";
        try
        {
            Directory.Move(lockDir, aside);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // someone else broke or released it first
        }

        if (NativeFs.GetMtimeUtc(aside) != judgedMtime)
        {
            try
            {
                Directory.Move(aside, lockDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryRemoveTree(aside);
            }

            return false;
        }

        TryRemoveTree(aside);
        return true;
    }

    private static void TryRemoveTree(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>"Now" by the file server's clock: the mtime of a probe file we just touched in the same folder.</summary>
    internal static DateTime? ServerNow(string folder)
    {
        var probe = Path.Combine(folder, $".clock-probe.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}");
        try
        {
            File.WriteAllBytes(probe, []);
            NativeFs.Touch(probe);
            return NativeFs.GetMtimeUtc(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            AtomicFile.TryDelete(probe);
        }
    }
}

/// <summary>Who holds a lock, as far as a waiter can tell.</summary>
public sealed record LockHolderInfo(string LockDir, LockOwnerRecord? Owner, DateTime MtimeUtc, DateTime? ServerNowUtc)
{
    /// <summary>Slack for a record written just after its holder refreshed the lock, and for whole-second mtimes.</summary>
    private static readonly TimeSpan RecordSlack = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The record was not refreshed along with the lock: it describes an older lock (its holder was killed, then a Node worker, which writes
    /// no record, broke and took the lock), or a holder that cannot write records. Either way it does not say who holds the lock now.
    /// </summary>
    public bool OwnerIsOlderThanLock => Owner is { } o && MtimeUtc - o.LastHeartbeatUtc > TimeSpan.FromMilliseconds(Math.Max(0, o.HeartbeatIntervalMs)) + RecordSlack;

    public string Describe()
    {
        if (Owner is not null && !OwnerIsOlderThanLock)
        {
            return Owner.Describe(MtimeUtc, ServerNowUtc);
        }

        var refreshed = ServerNowUtc is { } now ? $", {LockOwnerRecord.RefreshText(MtimeUtc, now)}" : "";
        return Owner is null
            ? $"an unknown holder (no RepoLock owner record: a Node worker, or a RepoLock holder that is just writing its record){refreshed}"
            : $"an unknown holder (for example a Node worker){refreshed}; the owner record beside the lock, from {Owner.Host} process {Owner.ProcessId} ({Owner.Purpose}), is older than the lock and was left by a holder that is gone";
    }
}

/// <summary>
/// A waiter's view of time for one lock: since when (by a local stopwatch) the lock's mtime has stayed the same, and the file server's
/// clock as the local clock plus the offset the last probe measured. Probing costs a create, a touch, a stat and a delete on the shared
/// volume, so a waiter probes every few seconds, not on every poll.
/// </summary>
internal sealed class StaleWatch
{
    private static readonly TimeSpan ReprobeEvery = TimeSpan.FromSeconds(5);
    private readonly Stopwatch _since = new();
    private readonly Stopwatch _sinceProbe = new();
    private DateTime _mtime;
    private TimeSpan? _offset;

    /// <summary>The server's clock from the last probe's offset, or null when a probe is due.</summary>
    public DateTime? EstimateServerNow() =>
        _offset is { } offset && _sinceProbe.IsRunning && _sinceProbe.Elapsed < ReprobeEvery ? DateTime.UtcNow + offset : null;

    public DateTime? Probe(string folder)
    {
        var now = LockService.ServerNow(folder);
        if (now is { } n)
        {
            _offset = n - DateTime.UtcNow;
            _sinceProbe.Restart();
        }

        return now;
    }

    public TimeSpan UnchangedFor(DateTime mtime)
    {
        if (!_since.IsRunning || mtime != _mtime)
        {
            _mtime = mtime;
            _since.Restart();
        }

        return _since.Elapsed;
    }
}

/// <summary>One waiter's patience for one lock: retries, the periodic "held by" report and the timeout.</summary>
public sealed class LockWaiter
{
    private readonly LockService _service;
    private readonly string _subject;
    private readonly IClock _clock;
    private readonly IRepoLockLog _log;
    private readonly StaleWatch _watch = new();
    private readonly Stopwatch _waited = new();
    private TimeSpan _nextReport;

    internal LockWaiter(LockService service, string lockDir, string subject, IClock clock, IRepoLockLog log)
    {
        _service = service;
        LockDir = lockDir;
        _subject = subject;
        _clock = clock;
        _log = log;
        _nextReport = service.Settings.ReportInterval;
    }

    public string LockDir { get; }

    public LockHolderInfo? LastHolder { get; private set; }

    public LockHandle? TryAcquire(string purpose)
    {
        var handle = _service.TryAcquireOnce(LockDir, purpose, _watch, out var holder);
        if (holder is not null)
        {
            LastHolder = holder;
        }

        return handle;
    }

    /// <summary>Waits one poll interval; reports the holder every few seconds; throws RL2001 past the timeout.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        if (!_waited.IsRunning)
        {
            _waited.Start();
            _log.Detail($"RepoLock: {_subject}: lock {LockDir} is held by {HolderText}; waiting.");
        }

        if (_waited.Elapsed >= _nextReport)
        {
            _nextReport += _service.Settings.ReportInterval;
            _log.Info($"RepoLock: waiting {_waited.Elapsed.TotalSeconds:0} s for {_subject}: the lock {LockDir} is held by {HolderText}. " +
                      $"It is taken over when the holder is gone (at once on this machine, after {_service.Settings.StaleAge.TotalSeconds:0} s without a refresh otherwise).");
        }

        if (_waited.Elapsed >= _service.Settings.Timeout)
        {
            throw Errors.Timeout(_subject, LockDir, HolderText, _waited.Elapsed);
        }

        await _clock.Delay(_service.Settings.PollInterval, cancellationToken).ConfigureAwait(false);
    }

    private string HolderText => LastHolder?.Describe() ?? "another process";
}
