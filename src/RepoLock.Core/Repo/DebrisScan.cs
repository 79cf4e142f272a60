using RepoLock.Core.Install;
using RepoLock.Core.Locking;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// Finds what processes that are gone left in a repo, judged by the rules installers use: staging folders (<see cref="StagingFolder.WhyAbandoned"/>),
/// lock directories a waiter moved aside to break but could not delete, and temp files of atomic writes and clock probes older than the stale age.
/// Ages are by the file server's clock, never this machine's.
/// </summary>
internal static class DebrisScan
{
    public static List<RepoDebris> Find(RepoLayout layout, MachineIdentity self, TimeSpan staleAge)
    {
        var debris = new List<RepoDebris>();
        if (!Directory.Exists(layout.Root))
        {
            return debris;
        }

        var serverNow = ServerClock.Probe(layout.Root);
        if (Directory.Exists(layout.StagingDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(layout.StagingDir))
            {
                if (StagingFolder.WhyAbandoned(dir, self, staleAge, serverNow, out _) is { } why)
                {
                    debris.Add(new RepoDebris(dir, why, RepoScan.Size(dir)));
                }
            }
        }

        foreach (var dir in new[] { layout.LocksDir, Path.Combine(layout.LocksDir, "*") }.SelectMany(Folders))
        {
            foreach (var aside in SafeEnumerate(() => Directory.EnumerateDirectories(dir, "*.lock.stale-*")))
            {
                debris.Add(new RepoDebris(aside, "a broken lock moved aside by a waiter and not deleted", RepoScan.Size(aside)));
            }
        }

        foreach (var dir in new[] { layout.Root, layout.SentinelsDir, Path.Combine(layout.SentinelsDir, "*"), layout.LocksDir, Path.Combine(layout.LocksDir, "*") }.SelectMany(Folders))
        {
            foreach (var file in SafeEnumerate(() => Directory.EnumerateFiles(dir, ".*")))
            {
                var name = Path.GetFileName(file);
                var kind = name.EndsWith(".tmp", StringComparison.Ordinal) ? "temp file of an atomic write"
                    : name.StartsWith(".clock-probe.", StringComparison.Ordinal) ? "clock probe file"
                    : null;
                var age = serverNow is { } now ? now - File.GetLastWriteTimeUtc(file) : TimeSpan.Zero;
                if (kind is not null && age > staleAge)
                {
                    debris.Add(new RepoDebris(file, $"{kind}, untouched for {age.TotalSeconds:0} s (stale age {staleAge.TotalSeconds:0} s)", RepoScan.Size(file)));
                }
            }
        }

        return debris;
    }

    /// <summary>The folder itself, or for <c>parent/*</c> the <c>@scope</c> folders inside parent.</summary>
    private static IEnumerable<string> Folders(string pattern) =>
        Path.GetFileName(pattern) == "*"
            ? SafeEnumerate(() => Directory.EnumerateDirectories(Path.GetDirectoryName(pattern)!, "@*"))
            : Directory.Exists(pattern) ? [pattern] : [];

    private static List<string> SafeEnumerate(Func<IEnumerable<string>> list)
    {
        try
        {
            return list().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Deletes one piece of debris after judging it again from fresh data; false when it is no longer debris or is gone.</summary>
    public static bool TryRemove(RepoLayout layout, RepoDebris debris, MachineIdentity self, TimeSpan staleAge)
    {
        var again = Find(layout, self, staleAge).Any(d => d.Path == debris.Path);
        if (!again)
        {
            return false;
        }

        if (Directory.Exists(debris.Path))
        {
            return StagingFolder.TryDelete(debris.Path);
        }

        AtomicFile.TryDelete(debris.Path);
        return !File.Exists(debris.Path);
    }
}
