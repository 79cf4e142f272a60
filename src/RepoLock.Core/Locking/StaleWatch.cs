using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// A waiter's view of time for one lock: since when (by the waiter's monotonic clock) the lock's mtime has stayed the same; since when the
/// lock directory (device, inode, mtime) and its owner record (byte for byte) have both stayed the same, which judges a lease; and the file
/// server's clock as the last probe's reading plus the time elapsed since on the waiter's monotonic clock (so a step of the local wall clock
/// cannot move it). Probing costs a create, a stat and a delete on the shared volume, so a waiter probes once a minute, not on every
/// observation: clocks drift apart by well under a millisecond a minute, and an estimate may only say "not yet" (a break is decided on a
/// fresh probe).
/// </summary>
internal sealed class StaleWatch
{
    internal static readonly TimeSpan ReprobeEvery = TimeSpan.FromSeconds(60);

    /// <summary>The soonest a rule's due time brings the next look (see <see cref="NextLook"/>).</summary>
    private static readonly TimeSpan MinimumLook = TimeSpan.FromMilliseconds(250);
    private readonly TimeProvider _time;
    private readonly Func<string, DateTime?> _probe;
    private long? _since;
    private long? _probedAt;
    private DateTime _mtime;
    private DateTime? _probedServerNow;
    private long? _leaseSince;
    private DirStamp _leaseStamp;
    private string? _leaseRecord;

    public StaleWatch(TimeProvider time, Func<string, DateTime?> probe)
    {
        _time = time;
        _probe = probe;
    }

    /// <summary>The server's clock from the last probe and the monotonic time since, or null when a probe is due.</summary>
    public DateTime? EstimateServerNow() =>
        _probedServerNow is { } server && _probedAt is { } at && _time.GetElapsedTime(at) is var since && since < ReprobeEvery ? server + since : null;

    /// <summary>Reads the server's clock now (a probe file in <paramref name="folder"/>); null if the folder cannot be written.</summary>
    public DateTime? Probe(string folder)
    {
        var now = _probe(folder);
        if (now is { } n)
        {
            _probedServerNow = n;
            _probedAt = _time.GetTimestamp();
        }

        return now;
    }

    /// <summary>How long the lock has carried <paramref name="mtime"/>, as far as this waiter has watched it.</summary>
    public TimeSpan UnchangedFor(DateTime mtime)
    {
        if (_since is null || mtime != _mtime)
        {
            _mtime = mtime;
            _since = _time.GetTimestamp();
        }

        return _time.GetElapsedTime(_since.Value);
    }

    /// <summary>
    /// How long the lock directory and its owner record have both stayed exactly as now, as far as this waiter has watched them. Only the
    /// waiter's monotonic clock is read: no clock of another machine takes part. A record that cannot be read counts as a change.
    /// </summary>
    public TimeSpan LeaseUnchangedFor(DirStamp stamp, string? recordText)
    {
        if (_leaseSince is null || recordText is null || stamp != _leaseStamp || recordText != _leaseRecord)
        {
            _leaseStamp = stamp;
            _leaseRecord = recordText;
            _leaseSince = _time.GetTimestamp();
        }

        return _time.GetElapsedTime(_leaseSince.Value);
    }

    /// <summary>
    /// When to look at the lock next: after <paramref name="interval"/>, or sooner, exactly when a rule could first judge it breakable (a
    /// watched lease runs out, the lock reaches the stale age), so looking less often never delays a takeover. Call it after judging the
    /// same state (its clocks run on).
    /// </summary>
    public TimeSpan NextLook(TimeSpan interval, TimeSpan staleAge, LockOwnerRecord? owner, DirStamp stamp, string? recordText, DateTime? serverNow)
    {
        var next = interval;
        void NoLaterThan(TimeSpan left)
        {
            if (left > TimeSpan.Zero && left < next)
            {
                // A rule already past its time did not apply (another condition of it is not met): it sets no time. One due within
                // moments waits a little: a whole-second server clock can keep a rule "a millisecond away" for up to a second.
                next = left > MinimumLook ? left : MinimumLook;
            }
        }

        var justAfter = TimeSpan.FromMilliseconds(1); // the stale-age rules are strict: "more than"
        if (owner?.LeaseGrace is { } grace && stamp.HasIdentity && owner.Describes(stamp.Mtime, staleAge))
        {
            NoLaterThan(grace - LeaseUnchangedFor(stamp, recordText));
        }

        if (serverNow is { } n)
        {
            NoLaterThan(staleAge - (n - stamp.Mtime) + justAfter);
        }

        NoLaterThan(staleAge - UnchangedFor(stamp.Mtime) + justAfter);
        return next;
    }
}
