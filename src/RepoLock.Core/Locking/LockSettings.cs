namespace RepoLock.Core.Locking;

/// <summary>Timing of the proper-lockfile protocol as RepoLock uses it (made from <see cref="RepoLockSettings"/>).</summary>
internal sealed record LockSettings
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultReportInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxHeartbeat = TimeSpan.FromSeconds(10);

    /// <summary>A lock whose mtime is older than this (by the file server's clock) may be broken. proper-lockfile holders refresh every StaleAge/2.</summary>
    public TimeSpan StaleAge { get; init; } = RepoLockSettings.DefaultStaleAge;

    /// <summary>How long a waiter waits for a lock a live holder keeps fresh.</summary>
    public TimeSpan Timeout { get; init; } = RepoLockSettings.DefaultLockTimeout;

    /// <summary>How often a holder refreshes its lock's mtime. Default: StaleAge/2, at most 10 s.</summary>
    public TimeSpan? Heartbeat { get; init; }

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>How often a waiter tells the user who holds the lock.</summary>
    public TimeSpan ReportInterval { get; init; } = DefaultReportInterval;

    /// <summary>Break a lock at once when its holder is provably dead on this machine.</summary>
    public bool FastRecovery { get; init; } = true;

    public TimeSpan EffectiveHeartbeat => Heartbeat ?? TimeSpan.FromTicks(Math.Min(StaleAge.Ticks / 2, MaxHeartbeat.Ticks));
}
