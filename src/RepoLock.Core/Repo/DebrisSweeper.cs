using RepoLock.Core.Locking;

namespace RepoLock.Core.Repo;

/// <summary>
/// Removes what a killed process leaves in the repo's own folders: temp files of atomic writes (<c>*.tmp</c>), clock probes
/// (<c>.clock-probe.*</c>) and broken locks moved aside (<c>*.stale-*</c>), once older than the stale age. Age is judged by the file
/// server's clock (a probe file's mtime), never the local one: the debris may be another machine's. Runs on the miss path only; never
/// follows a link and never fails a build. Staging folders are removed per alias by <see cref="Install.StagingFolder"/>, which can prove
/// their owner dead.
/// </summary>
internal static class DebrisSweeper
{
    /// <returns>How many entries were removed.</returns>
    public static int Sweep(RepoLayout layout, TimeSpan staleAge, IRepoLockLog log)
    {
        var removed = 0;
        try
        {
            if (ServerClock.Probe(layout.Root) is not { } now)
            {
                return 0;
            }

            removed += SweepFolder(layout.Root, now - staleAge, recurse: false, log);
            foreach (var folder in new[] { layout.LocksDir, layout.SentinelsDir })
            {
                if (RepoConfinement.KindOf(folder) == RepoConfinement.EntryKind.Directory)
                {
                    removed += SweepFolder(folder, now - staleAge, recurse: true, log);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or RepoLockException)
        {
            log.Detail($"RepoLock: could not sweep leftovers in {layout.Root}: {e.Message}");
        }

        return removed;
    }

    private static int SweepFolder(string folder, DateTime olderThan, bool recurse, IRepoLockLog log)
    {
        var removed = 0;
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            var kind = RepoConfinement.KindOf(entry.FullName);
            var name = entry.Name;
            var debris = (name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal)) || name.StartsWith(".clock-probe.", StringComparison.Ordinal)
                || name.Contains(".stale-", StringComparison.Ordinal);
            if (debris && kind != RepoConfinement.EntryKind.Link && entry.LastWriteTimeUtc < olderThan && TryRemove(entry.FullName, kind))
            {
                removed++;
                log.Detail($"RepoLock: removed {entry.FullName}, left by a process that is gone.");
            }
            else if (recurse && kind == RepoConfinement.EntryKind.Directory && !debris && !name.EndsWith(".lock", StringComparison.Ordinal))
            {
                removed += SweepFolder(entry.FullName, olderThan, recurse, log); // scope folders; never into a lock directory or through a link
            }
        }

        return removed;
    }

    private static bool TryRemove(string path, RepoConfinement.EntryKind kind)
    {
        try
        {
            if (kind == RepoConfinement.EntryKind.Directory)
            {
                Directory.Delete(path, recursive: true); // never follows a link inside it
            }
            else
            {
                File.Delete(path);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
