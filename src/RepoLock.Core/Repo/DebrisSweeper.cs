namespace RepoLock.Core.Repo;

/// <summary>
/// Removes what killed processes left in the repo's own folders (<see cref="DebrisRules"/>: exact names, older than the stale age by the
/// file server's clock), each only as the instance judged (<see cref="RepoDoor.RemoveJudged"/>). Runs on the miss path only; never
/// follows a link and never fails a build. Staging folders are removed per alias by <see cref="Install.StagingFolder"/>, by their lock.
/// </summary>
internal static class DebrisSweeper
{
    /// <returns>How many entries were removed.</returns>
    public static int Sweep(RepoLayout layout, TimeSpan staleAge, IRepoLockLog log)
    {
        var removed = 0;
        try
        {
            foreach (var (path, judged, why) in DebrisRules.Find(layout, staleAge))
            {
                if (layout.Door.RemoveJudged(path, judged) == RemoveOutcome.Removed)
                {
                    removed++;
                    log.Detail($"RepoLock: removed {path} ({why}), left by a process that is gone.");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or RepoLockException)
        {
            log.Detail($"RepoLock: could not sweep leftovers in {layout.Root}: {e.Message}");
        }

        return removed;
    }
}
