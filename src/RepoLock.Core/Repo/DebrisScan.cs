using RepoLock.Core.Install;
using RepoLock.Core.Locking;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// Finds what processes that are gone left in a repo, for the tool, by the rules installers use: staging folders whose lock is gone or
/// dead (<see cref="StagingFolder.WhyAbandoned"/>), and the exact debris names of <see cref="DebrisRules"/>.
/// </summary>
internal static class DebrisScan
{
    public static List<RepoDebris> Find(RepoLayout layout, LockService locks)
    {
        var debris = new List<RepoDebris>();
        if (!Directory.Exists(layout.Root))
        {
            return debris;
        }

        foreach (var (name, kind) in layout.Door.List(layout.StagingDir))
        {
            var dir = Path.Combine(layout.StagingDir, name);
            if (kind == FsKind.Directory && StagingFolder.WhyAbandoned(layout, dir, locks) is { } why)
            {
                debris.Add(new RepoDebris(dir, why, RepoScan.Size(layout, dir)));
            }
        }

        debris.AddRange(DebrisRules.Find(layout, locks.Settings.StaleAge).Select(d => new RepoDebris(d.Path, d.Why, RepoScan.Size(layout, d.Path))));
        return debris;
    }

    /// <summary>Deletes one piece of debris after judging it again from fresh data, only as the instance judged; false when it is no longer debris or is gone.</summary>
    public static bool TryRemove(RepoLayout layout, RepoDebris debris, LockService locks)
    {
        if (!Find(layout, locks).Any(d => d.Path == debris.Path) || layout.Door.Look(debris.Path) is not { } judged)
        {
            return false;
        }

        return layout.Door.RemoveJudged(debris.Path, judged) is RemoveOutcome.Removed or RemoveOutcome.Gone;
    }
}
