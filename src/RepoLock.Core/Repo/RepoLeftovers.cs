using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Bundle;
using RepoLock.Core.Locking;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// What nothing in a repo needs, one rule for <c>status</c>, <c>prune</c> and <c>verify --fix</c>:
/// <list type="bullet">
/// <item><b>Packages</b> in <c>node_modules</c> outside every adaptor folder (a Node worker's root <c>npm install</c> hoists them there)
/// that no adaptor folder's dependency closure needs: the bundle's rule (<see cref="DependencyClosure.Packages"/>), and again with every
/// name a package of a closure asks for looked up in fresh listings (Node's lookup from the asking package up to the root), so a lookup a
/// client cache answers "absent" never makes a needed package look unneeded. Every adaptor folder counts, installed or not, stock installs included. Not judged at all
/// while any lock is held and not judged dead: a root install may be placing packages.</item>
/// <item><b>Listings</b> (<c>.sentinels/&lt;alias&gt;.files</c>) whose sentinel is gone and whose alias is not locked.</item>
/// <item><b>Owner records</b> (<c>&lt;lock dir&gt;.owner.json</c>) whose lock directory is gone, untouched for the stale age by the file
/// server's clock.</item>
/// </list>
/// Every name comes from fresh listings through the door; nothing is followed through a link.
/// </summary>
internal static class RepoLeftovers
{
    private static readonly string[] DependencyKinds = ["dependencies", "optionalDependencies", "peerDependencies"];

    public static (List<RepoLeftover> Found, string? PackagesNotJudged) Find(
        RepoLayout layout, IReadOnlyCollection<string> adaptorFolders, IReadOnlyList<LockInfo> locks, TimeSpan staleAge)
    {
        var found = new List<RepoLeftover>();
        var held = locks.Where(l => l.Verdict != LockVerdict.Dead).Select(l => l.Alias).ToList();
        string? notJudged = held.Count > 0
            ? $"packages outside adaptor folders are not judged while a lock is held ({string.Join(", ", held)}): an install may be placing them"
            : null;
        if (notJudged is null)
        {
            try
            {
                found.AddRange(Packages(layout, adaptorFolders));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or RepoLockException)
            {
                notJudged = $"packages outside adaptor folders could not be judged: {e.Message}";
            }
        }

        var locked = locks.Select(l => l.Alias).ToHashSet(StringComparer.Ordinal);
        var sentinels = RepoScan.SentinelAliases(layout).ToHashSet(StringComparer.Ordinal);
        foreach (var alias in RepoScan.ListingAliases(layout).Where(a => !sentinels.Contains(a) && !locked.Contains(a)))
        {
            var path = layout.DigestListingPath(alias);
            found.Add(new RepoLeftover(RepoLeftoverKind.Listing, path, RepoScan.Size(layout, path), $"the content listing of {alias}, whose sentinel is gone"));
        }

        var lockDirs = RepoScan.LockDirs(layout).Select(l => l.LockDir).ToHashSet(StringComparer.Ordinal);
        var records = RepoScan.OwnerRecords(layout).Where(r => !lockDirs.Contains(r.LockDir)).ToList();
        if (records.Count > 0 && ServerClock.Probe(layout.LocksDir) is { } now)
        {
            foreach (var (record, _) in records)
            {
                if (layout.Door.Look(record) is { Kind: FsKind.File } stat && now - stat.Mtime > staleAge)
                {
                    found.Add(new RepoLeftover(RepoLeftoverKind.OwnerRecord, record, stat.Size,
                        $"an owner record without its lock, untouched for {(now - stat.Mtime).TotalSeconds:0} s (stale age {staleAge.TotalSeconds:0} s)"));
                }
            }
        }

        return (found, notJudged);
    }

    /// <summary>Whether <paramref name="leftover"/> is still one, judged again from fresh data now.</summary>
    public static bool StillLeftover(RepoLayout layout, RepoLeftover leftover, IReadOnlyCollection<string> adaptorFolders, IReadOnlyList<LockInfo> locks, TimeSpan staleAge) =>
        Find(layout, adaptorFolders, locks, staleAge).Found.Any(f => f.Kind == leftover.Kind && f.Path == leftover.Path);

    private static IEnumerable<RepoLeftover> Packages(RepoLayout layout, IReadOnlyCollection<string> adaptorFolders)
    {
        var topLevel = TopLevelPackages(layout);
        if (topLevel.Count == 0)
        {
            yield break;
        }

        var needed = new HashSet<string>(StringComparer.Ordinal);
        var asked = new HashSet<string>(StringComparer.Ordinal);
        var listings = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var queue = new Queue<string>(adaptorFolders.SelectMany(a => DependencyClosure.Packages(layout.Root, layout.AdaptorDir(a))));
        while (queue.Count > 0)
        {
            var package = queue.Dequeue();
            if (TopLevelName(layout, package) is { } resolved && topLevel.TryGetValue(resolved, out var resolvedDir) && needed.Add(resolved))
            {
                foreach (var inner in DependencyClosure.Packages(layout.Root, resolvedDir))
                {
                    queue.Enqueue(inner);
                }
            }

            foreach (var name in AskedFor(package).Where(n => topLevel.ContainsKey(n) && !needed.Contains(n) && asked.Add($"{package}\n{n}")))
            {
                if (ResolvesAtTop(layout, package, name, listings) && topLevel.TryGetValue(name, out var dir) && needed.Add(name))
                {
                    foreach (var inner in DependencyClosure.Packages(layout.Root, dir))
                    {
                        queue.Enqueue(inner);
                    }
                }
            }
        }

        foreach (var (name, dir) in topLevel.Where(p => !needed.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            yield return new RepoLeftover(RepoLeftoverKind.Package, dir, RepoScan.Size(layout, dir),
                $"package {name} outside every adaptor folder, which no adaptor's dependency closure needs");
        }
    }

    /// <summary>Real folders directly in <c>node_modules</c> (and in its scope folders) that are not adaptor folders and not npm's own (<c>.bin</c>).</summary>
    private static Dictionary<string, string> TopLevelPackages(RepoLayout layout)
    {
        var packages = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, kind) in layout.Door.List(layout.NodeModules))
        {
            if (kind != FsKind.Directory || name.StartsWith('.'))
            {
                continue;
            }

            var inside = name.StartsWith('@')
                ? layout.Door.List(Path.Combine(layout.NodeModules, name)).Where(e => e.Kind == FsKind.Directory && !e.Name.StartsWith('.')).Select(e => $"{name}/{e.Name}")
                : [name];
            foreach (var package in inside.Where(p => RepoScan.TryParseAlias(p) is null))
            {
                packages[package] = Path.Combine(layout.NodeModules, package);
            }
        }

        return packages;
    }

    /// <summary>The name of the top-level package <paramref name="package"/> is, or is inside; null for one inside an adaptor folder or outside node_modules.</summary>
    private static string? TopLevelName(RepoLayout layout, string package)
    {
        if (!package.StartsWith(layout.NodeModules + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = package[(layout.NodeModules.Length + 1)..].Split(Path.DirectorySeparatorChar);
        var name = parts[0].StartsWith('@') && parts.Length > 1 ? $"{parts[0]}/{parts[1]}" : parts[0];
        return RepoScan.TryParseAlias(name) is null ? name : null;
    }

    /// <summary>
    /// Node's lookup of <paramref name="name"/> from <paramref name="package"/>: true when no folder between the package and the repo root
    /// has it, so the one in the repo's <c>node_modules</c> is what Node loads. A candidate a lookup finds is confirmed in a fresh listing
    /// (one per folder per judgement, kept in <paramref name="listings"/>): only "present" can make a top-level package unneeded.
    /// </summary>
    private static bool ResolvesAtTop(RepoLayout layout, string package, string name, Dictionary<string, HashSet<string>> listings)
    {
        for (var dir = package; dir is not null && dir.Length > layout.Root.Length; dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) != "node_modules" && Listed(layout, Path.Combine(dir, "node_modules"), name, listings))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a fresh listing of <paramref name="nodeModules"/> (and of the scope folder, for a scoped name) shows a real folder <paramref name="name"/>.</summary>
    private static bool Listed(RepoLayout layout, string nodeModules, string name, Dictionary<string, HashSet<string>> listings)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var (dir, leaf) = slash < 0 ? (nodeModules, name) : (Path.Combine(nodeModules, name[..slash]), name[(slash + 1)..]);
        if (!Directory.Exists(Path.Combine(dir, leaf)))
        {
            return false; // a lookup's "absent", even a cached one, only ever keeps the top-level package: the safe side
        }

        if (!listings.TryGetValue(dir, out var folders)) // "present" decides a removal: confirmed by a fresh listing
        {
            try
            {
                folders = layout.Door.List(dir).Where(e => e.Kind == FsKind.Directory).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            }
            catch (RepoLockException)
            {
                folders = []; // a link where a folder belongs: Node would follow it, we never do; the top-level package stays needed
            }

            listings[dir] = folders;
        }

        return folders.Contains(leaf);
    }

    /// <summary>Every name a package asks for: dependencies, optional and peer dependencies.</summary>
    private static IEnumerable<string> AskedFor(string package)
    {
        JsonObject? manifest;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(package, "package.json"))) as JsonObject;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }

        return DependencyKinds.SelectMany(k => manifest?[k] is JsonObject deps ? deps.Select(d => d.Key) : []);
    }
}
