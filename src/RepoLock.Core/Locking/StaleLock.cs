using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// Breaking a lock judged dead, acting only on the exact lock instance that was judged: its directory (device, inode, mtime) and the owner
/// record the judgement read. It never removes, puts back over or replaces a lock that is fresh or that another process made meanwhile.
/// </summary>
/// <remarks>
/// <para>The steps, and why each is safe:</para>
/// <list type="number">
/// <item>Check again, just before acting: the directory at the lock path is still the judged one (same device, inode and mtime) and the
/// owner record is byte for byte the judged one. A lock released and made again since, or a holder that renewed since, stops us here.</item>
/// <item>Rename the lock directory to a unique name beside it (<c>&lt;lock&gt;.stale-&lt;guid&gt;</c>). rename is atomic: of several
/// breakers, one moves the directory; the others find nothing (or a lock made after the first break, see 3).</item>
/// <item>Prove what we moved: the moved directory must be the judged one (same device, inode and mtime). While it sits under our unique
/// name it exists, so no other directory can carry its device and inode; and a new incarnation of a reused inode carries a fresh mtime,
/// while the judged one is at least a second (fast path), the lease's grace or the stale age old. Then it is the dead lock, and we remove
/// it. The record is checked once more: if the judged holder renewed it (the same acquisition, a new text) in the instant between 1 and 2,
/// it was alive, and we put its lock back; a record of another acquisition is a new holder's, made after our rename.</item>
/// <item>Otherwise we moved a lock we must not have (another breaker broke the judged lock between our check and our rename, and someone
/// made a new lock). We put it back with renameat2(RENAME_NOREPLACE), which fails if yet another lock stands there now, instead of rename,
/// which would silently replace that (empty) lock directory. Where the file system cannot promise "no replace" (NFS, sshfs and other FUSE
/// mounts), or a new lock already stands there, we remove the directory we moved instead: its holder finds another directory, or none, at
/// the lock path at its next check and stops with RL2002 before changing anything. Either way no lock is ever replaced, and no holder keeps
/// believing it holds a lock that another one holds.</item>
/// </list>
/// <para>The window for step 4 is the instant between steps 1 and 2, and it needs a second breaker to complete a whole break in it.</para>
/// </remarks>
internal static class StaleLock
{
    /// <param name="lockDir">The lock directory.</param>
    /// <param name="judged">The lock directory as the judgement saw it.</param>
    /// <param name="judgedRecord">The owner record's exact text the judgement read, or null if there was none.</param>
    /// <param name="log">Where a moved-back or lost lock is reported.</param>
    /// <param name="step">Test hook: called with "checked" after step 1 and "moved" after step 2.</param>
    /// <returns>true if this call removed the judged lock.</returns>
    public static bool TryBreak(string lockDir, DirStamp judged, string? judgedRecord, IRepoLockLog log, Action<string>? step = null)
    {
        if (NativeFs.Stat(lockDir) is not { } now || !IsJudged(now, judged) || ReadRecord(lockDir) != judgedRecord)
        {
            return false; // released, taken, or renewed since the judgement
        }

        step?.Invoke("checked");
        var aside = $"{lockDir}.stale-{Guid.NewGuid():N}";
        try
        {
            Directory.Move(lockDir, aside);
        }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && !NativeFs.IsReadOnly(e))
        {
            return false; // someone else broke or released it first (a permission error is not that: it is thrown, and reported as such)
        }

        step?.Invoke("moved");
        var moved = NativeFs.Stat(aside);
        if (moved is { } m && IsJudged(m, judged) && !RenewedSince(lockDir, judgedRecord))
        {
            TryRemoveTree(aside);
            return true;
        }

        PutBackOrRemove(aside, lockDir, log, $"changed while it was being broken ({moved?.ToString() ?? "gone"}, judged {judged})");
        return false;
    }

    /// <summary>
    /// A lock directory moved aside that turned out not to be the one judged goes back with renameat2(RENAME_NOREPLACE), which fails if yet
    /// another lock stands there now. Where the file system cannot promise "no replace" (NFS, sshfs and other FUSE mounts), or a new lock
    /// already stands there, it is removed instead: its holder finds another directory, or none, at its next check and stops with RL2002
    /// before changing anything. Either way no lock is ever replaced.
    /// </summary>
    internal static void PutBackOrRemove(string aside, string lockDir, IRepoLockLog log, string why)
    {
        if (NativeFs.TryRenameNoReplace(aside, lockDir))
        {
            log.Detail($"RepoLock: {lockDir} {why}; it was put back untouched.");
            return;
        }

        log.Detail($"RepoLock: {lockDir} {why}; it could not be put back without risking another lock, so it was removed: its holder stops with RL2002 at its next check.");
        TryRemoveTree(aside);
    }

    /// <summary>The judged instance: same device and inode (where the platform tells them) and the same mtime.</summary>
    private static bool IsJudged(DirStamp seen, DirStamp judged) =>
        seen.MtimeTicks == judged.MtimeTicks && (seen.HasIdentity ? seen.SameDirectory(judged) : !judged.HasIdentity);

    /// <summary>
    /// Whether the judged holder renewed its record since the judgement (the same acquisition, a new text): then it was alive. A record of
    /// another acquisition is not a renewal: a new holder that made its lock after our rename wrote it, and the instance we moved is the
    /// judged, dead one.
    /// </summary>
    private static bool RenewedSince(string lockDir, string? judgedRecord)
    {
        var text = ReadRecord(lockDir);
        if (text == judgedRecord)
        {
            return false;
        }

        return LockOwnerRecord.Parse(judgedRecord) is { } judged && LockOwnerRecord.Parse(text) is { } now && judged.IsSameAcquisition(now);
    }

    private static string? ReadRecord(string lockDir)
    {
        LockOwnerRecord.TryRead(lockDir, out var text);
        return text;
    }

    private static void TryRemoveTree(string dir) => TreeDelete.TryDelete(dir);
}
