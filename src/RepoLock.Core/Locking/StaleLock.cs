using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>Removing a lock judged breakable, without ever removing another one in its place.</summary>
internal static class StaleLock
{
    /// <summary>Move the lock aside, prove it is the one judged breakable (same mtime), then remove it; otherwise put it back.</summary>
    public static bool TryBreak(string lockDir, DateTime judgedMtime)
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
}
