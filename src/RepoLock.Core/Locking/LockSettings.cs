namespace RepoLock.Core.Locking;

/// <summary>Timing of the proper-lockfile protocol as RepoLock uses it (made from <see cref="RepoLockSettings"/>).</summary>
internal sealed record LockSettings
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultMaxPollInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultObserveInterval = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan DefaultReportInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultLeaseInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultLeaseGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxHeartbeat = TimeSpan.FromSeconds(10);

    /// <summary>A lock whose mtime is older than this (by the file server's clock) may be broken. proper-lockfile holders refresh every StaleAge/2.</summary>
    public TimeSpan StaleAge { get; init; } = RepoLockSettings.DefaultStaleAge;

    /// <summary>How long a waiter waits for a lock a live holder keeps fresh.</summary>
    public TimeSpan Timeout { get; init; } = RepoLockSettings.DefaultLockTimeout;

    /// <summary>How often a holder refreshes its lock's mtime. Default: StaleAge/2, at most 10 s.</summary>
    public TimeSpan? Heartbeat { get; init; }

    /// <summary>A waiter's first pause before it tries a held lock again; the pauses then grow to <see cref="MaxPollInterval"/>.</summary>
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>
    /// A waiter's longest pause between two tries of a held lock (one mkdir each): what a long wait costs the file server, and how late a
    /// waiter on another machine notices a release (one on this machine is woken by the kernel). OpenFn's own engine polls every 2 s.
    /// </summary>
    public TimeSpan MaxPollInterval { get; init; } = DefaultMaxPollInterval;

    /// <summary>
    /// How often a waiter looks at who holds the lock (a stat and a read of the owner record) to judge the holder's lease and stale age.
    /// A holder renews its lease every 2 s and is judged dead after 15 s unrenewed; a waiter also looks exactly when a watched lease runs out.
    /// </summary>
    public TimeSpan ObserveInterval { get; init; } = DefaultObserveInterval;

    /// <summary>Let the kernel wake a waiter when its lock changes on this machine (<see cref="LockFolderWatch"/>); false polls only.</summary>
    public bool Notifications { get; init; } = true;

    /// <summary>How often a waiter tells the user who holds the lock.</summary>
    public TimeSpan ReportInterval { get; init; } = DefaultReportInterval;

    /// <summary>Test-only: called with a step name at the points of a release a test pauses a process at (<c>release-checked.&lt;lock directory name&gt;</c>).</summary>
    internal Action<string>? Checkpoint { get; init; }

    /// <summary>Break a lock at once when its holder is provably dead on this machine.</summary>
    public bool FastRecovery { get; init; } = true;

    /// <summary>How often a holder renews its lease (rewrites its owner record). Never less often than the heartbeat.</summary>
    public TimeSpan LeaseInterval { get; init; } = DefaultLeaseInterval;

    /// <summary>How long a waiter watches a lease unrenewed before it judges the holder dead. At least three renewals.</summary>
    public TimeSpan LeaseGrace { get; init; } = DefaultLeaseGrace;

    public TimeSpan EffectiveLeaseInterval => LeaseInterval < EffectiveHeartbeat ? LeaseInterval : EffectiveHeartbeat;

    public TimeSpan EffectiveLeaseGrace => LeaseGrace > EffectiveLeaseInterval * 3 ? LeaseGrace : EffectiveLeaseInterval * 3;

    /// <summary>
    /// A holder that has not renewed for this long (paused, stalled) counts its lock as lost: two renewals short of the grace, so a
    /// renewal it starts before then is visible before any waiter's grace can run out.
    /// </summary>
    public TimeSpan LeaseFence => EffectiveLeaseGrace - (EffectiveLeaseInterval * 2);

    public TimeSpan EffectiveHeartbeat => Heartbeat ?? TimeSpan.FromTicks(Math.Min(StaleAge.Ticks / 2, MaxHeartbeat.Ticks));
}
