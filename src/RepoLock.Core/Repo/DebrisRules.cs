using System.Text.RegularExpressions;

using RepoLock.Core.Locking;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// What processes that are gone leave in RepoLock's folders, by the exact names RepoLock generates and nothing else (an adaptor whose
/// name happens to contain one of the markers is never touched): temp files of atomic writes (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c>),
/// entries moved aside by a conditional change (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.aside</c>), clock probes
/// (<c>.clock-probe.&lt;pid&gt;.&lt;guid&gt;</c>) and broken locks (<c>&lt;target&gt;.lock.stale-&lt;guid&gt;</c>, in <c>.locks</c> only).
/// Looked for in the repo root and in <c>.locks</c>, <c>.sentinels</c> and their scope folders, never deeper and never through a link;
/// debris once older than the stale age by the file server's clock. One rule for the build's sweep and the tool.
/// </summary>
internal static partial class DebrisRules
{
    /// <summary>Each piece of debris with the instance judged and why, in the folders RepoLock owns.</summary>
    public static List<(string Path, FsStat Judged, string Why)> Find(RepoLayout layout, TimeSpan staleAge)
    {
        var found = new List<(string, FsStat, string)>();
        if (!Directory.Exists(layout.Root))
        {
            return found;
        }

        if (ServerClock.Probe(layout.Root) is not { } now)
        {
            return found; // not writable: no age can be judged, nothing is debris
        }

        foreach (var folder in Folders(layout))
        {
            var inLocks = folder == layout.LocksDir || Path.GetDirectoryName(folder) == layout.LocksDir;
            foreach (var (name, kind) in layout.Door.List(folder))
            {
                var what = Classify(name, kind, inLocks);
                var path = Path.Combine(folder, name);
                if (what is null || layout.Door.Look(path) is not { } stat)
                {
                    continue;
                }

                var age = now - stat.Mtime;
                if (age > staleAge)
                {
                    found.Add((path, stat, $"{what}, untouched for {age.TotalSeconds:0} s (stale age {staleAge.TotalSeconds:0} s)"));
                }
            }
        }

        return found;
    }

    /// <summary>What a name is, if it is one RepoLock generates for debris; null otherwise.</summary>
    internal static string? Classify(string name, FsKind kind, bool inLocks) =>
        kind == FsKind.File && TempName().IsMatch(name) ? "temp file of an atomic write"
        : kind is FsKind.File or FsKind.Directory && AsideName().IsMatch(name) ? "an entry moved aside by an interrupted change"
        : kind == FsKind.File && ProbeName().IsMatch(name) ? "clock probe file"
        : kind == FsKind.Directory && inLocks && BrokenLockName().IsMatch(name) ? "a broken lock moved aside and not deleted"
        : null;

    private static IEnumerable<string> Folders(RepoLayout layout)
    {
        yield return layout.Root;
        foreach (var own in new[] { layout.LocksDir, layout.SentinelsDir })
        {
            yield return own;
            foreach (var (name, kind) in layout.Door.List(own))
            {
                if (kind == FsKind.Directory && name.StartsWith('@'))
                {
                    yield return Path.Combine(own, name);
                }
            }
        }
    }

    [GeneratedRegex(@"^\..+\.[0-9]+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();

    [GeneratedRegex(@"^\..+\.[0-9]+\.[0-9a-f]{32}\.aside$")]
    private static partial Regex AsideName();

    [GeneratedRegex(@"^\.clock-probe\.[0-9]+\.[0-9a-f]{32}$")]
    private static partial Regex ProbeName();

    [GeneratedRegex(@"^.+\.lock\.stale-[0-9a-f]{32}$")]
    private static partial Regex BrokenLockName();
}
