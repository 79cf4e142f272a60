namespace RepoLock.Core.Locking;

/// <summary>Who holds a lock, as far as a waiter can tell.</summary>
internal sealed record LockHolderInfo(string LockDir, LockOwnerRecord? Owner, DateTime MtimeUtc, DateTime? ServerNowUtc)
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
