using System.Security.Cryptography;
using System.Text;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Version 2 of the content digest (docs/bundles.md, "Content digest"): every file of the adaptor's folder, every copy of every package
/// npm put in it, keyed by path. The listing (stored whole next to the sentinel) has one line per package copy and one per loose entry
/// of a <c>node_modules</c> folder, in ordinal order of the path (relative to the adaptor's folder, '/' separators, "." for the adaptor):
/// <code>
/// repolock-digest v2
/// p	&lt;path&gt;	&lt;name@version, or ? without one&gt;	&lt;hash of the package's own files&gt;[	&lt;locators&gt;]
/// e	&lt;path&gt;	&lt;hash of the entry&gt;                          a file, link or folder directly in a node_modules folder
/// </code>
/// The optional locators are 4 hex digits per entry of the package (<see cref="PackageFiles.PackageHash"/>), given to the smallest
/// packages first while the listing stays within 60 KiB: they name the first differing file of a changed package without storing names.
/// A package's own files are its folder without its own <c>node_modules</c> (<see cref="PackageFiles"/>). Not covered: npm's
/// <c>node_modules/.bin</c> folders (npm recreates them; the bundle judges their links). The digest is <c>v2-sha256-</c> and the hex
/// SHA-256 of the listing. A package copy that a root <c>npm install</c> or <c>npm dedupe</c> moved out of the adaptor's folder still
/// verifies: where its recorded place is empty, the package Node now resolves from there must be byte for byte the recorded one.
/// </summary>
internal static class TreeDigest
{
    public const string Prefix = "v2-sha256-";
    public const string Header = "repolock-digest v2\n";
    private const int Budget = 60 * 1024;

    /// <summary>The listing of the adaptor in <paramref name="adaptorDir"/>.</summary>
    public static string Listing(string adaptorDir)
    {
        var (lines, packages) = Scan(adaptorDir);
        return Render(lines, packages);
    }

    /// <summary>The digest of a version 2 listing, or null when <paramref name="listing"/> is not one.</summary>
    public static string? DigestOf(string listing) =>
        listing.StartsWith(Header, StringComparison.Ordinal)
            ? Prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(listing))).ToLowerInvariant()
            : null;

    /// <summary>
    /// Null when the adaptor in <paramref name="adaptorDir"/> (inside <paramref name="root"/>) matches <paramref name="recorded"/>;
    /// otherwise the first differing path (package copy or loose entry) and what happened to it.
    /// </summary>
    public static string? Difference(string root, string adaptorDir, string recorded, string? stored)
    {
        var (current, hashes) = Scan(adaptorDir);
        if (DigestOf(Render(current, hashes)) == recorded)
        {
            return null;
        }

        if (stored is null || DigestOf(stored) != recorded)
        {
            return "unknown (the install's listing is missing or belongs to another install)";
        }

        var (expected, locators) = Parse(stored);
        var problems = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var places = new Dictionary<string, string>(StringComparer.Ordinal) { ["."] = adaptorDir };
        var moved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, line) in expected.Where(e => e.Value.StartsWith("p\t", StringComparison.Ordinal)))
        {
            if (current.TryGetValue(path, out var now))
            {
                places[path] = Path.Combine(adaptorDir, path);
                if (now != line)
                {
                    problems[path] = locators.TryGetValue(path, out var recordedLocators) && hashes[path].FirstDifferingPath(recordedLocators) is { } entry
                        ? $"{(path == "." ? "" : path + "/")}{entry} (in {Id(line)}: changed, added, or the first entry after a removed one)"
                        : $"{path} ({Id(line)}: its files changed)";
                }

                continue;
            }

            // Not at its recorded place: moved up by a root npm install or dedupe? Then Node resolves it from its requester's folder.
            var (requester, name) = Split(path);
            if (!places.TryGetValue(requester, out var from) || Resolve(root, from, name) is not { } found)
            {
                problems[path] = $"{path} ({Id(line)}: missing)";
                continue;
            }

            places[path] = found;
            moved.Add(path);
            var there = PackageFiles.Package(found);
            if (Line(there) != line)
            {
                var entry = locators.TryGetValue(path, out var recordedLocators) ? there.FirstDifferingPath(recordedLocators) : null;
                problems[path] = $"{path} ({Id(line)}: moved; Node resolves {Path.GetRelativePath(root, found).Replace('\\', '/')} instead, " +
                                 $"which differs{(entry is null ? "" : $" first at {entry}")})";
            }
        }

        foreach (var (path, line) in expected.Where(e => e.Value.StartsWith("e\t", StringComparison.Ordinal)))
        {
            if (!current.TryGetValue(path, out var now))
            {
                if (!moved.Any(m => path.StartsWith(m + "/", StringComparison.Ordinal)))
                {
                    problems[path] = $"{path} (missing)";
                }
            }
            else if (now != line)
            {
                problems[path] = $"{path} (changed)";
            }
        }

        // A moved package's new folder may hold packages of its own that Node now loads from there: each must be a recorded one.
        foreach (var path in moved)
        {
            var inside = new List<(string Path, string Folder)>();
            FindPackages(places[path], path, inside, []);
            foreach (var (extra, folder) in inside.Where(p => !expected.ContainsKey(p.Path)))
            {
                problems[extra] = $"{extra} ({PackageFiles.Package(folder).Id}: added, at {Path.GetRelativePath(root, folder).Replace('\\', '/')})";
            }
        }

        foreach (var path in current.Keys.Where(p => !expected.ContainsKey(p)))
        {
            problems[path] = $"{path} ({(current[path].StartsWith("p\t", StringComparison.Ordinal) ? Id(current[path]) + ": " : "")}added)";
        }

        return problems.Count > 0 ? problems.First().Value : null;
    }

    /// <summary>Every package copy and loose entry of the adaptor's folder (path → its listing line without the path), and the package hashes.</summary>
    private static (SortedDictionary<string, string> Lines, Dictionary<string, PackageFiles.PackageHash> Packages) Scan(string adaptorDir)
    {
        var hashes = new Dictionary<string, PackageFiles.PackageHash>(StringComparer.Ordinal);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var packages = new List<(string Path, string Folder)>();
        var loose = new List<(string Path, string Full, TreeWalk.EntryKind Kind)>();
        FindPackages(adaptorDir, ".", packages, loose);
        var hashed = PackageFiles.Packages(packages.Select(p => p.Folder).ToList());
        for (var i = 0; i < packages.Count; i++)
        {
            result[packages[i].Path] = Line(hashed[i]);
            hashes[packages[i].Path] = hashed[i];
        }

        foreach (var (path, full, kind) in loose)
        {
            result[path] = $"e\t{PackageFiles.Loose(full, kind)}";
        }

        return (result, hashes);
    }

    /// <summary><paramref name="folder"/> and every package copy inside it (through node_modules folders, scoped ones included).</summary>
    public static List<string> PackageFolders(string folder)
    {
        var packages = new List<(string Path, string Folder)>();
        FindPackages(folder, ".", packages, []);
        return packages.Select(p => p.Folder).ToList();
    }

    /// <summary>The packages in <paramref name="folder"/>'s own node_modules (scoped ones included), recursively; other entries there are loose.</summary>
    private static void FindPackages(string folder, string path, List<(string, string)> packages, List<(string, string, TreeWalk.EntryKind)> loose)
    {
        packages.Add((path, folder));
        var modules = Path.Combine(folder, "node_modules");
        if (!Directory.Exists(modules) || new DirectoryInfo(modules).LinkTarget is not null)
        {
            return; // a link named node_modules is one of the package's own files
        }

        var prefix = path == "." ? "node_modules/" : path + "/node_modules/";
        foreach (var entry in TreeWalk.Sorted(modules).Where(e => !e.RelativePath.Contains('/', StringComparison.Ordinal)))
        {
            var name = entry.RelativePath;
            if (name == ".bin")
            {
                continue;
            }

            if (entry.Kind != TreeWalk.EntryKind.Directory || name.StartsWith('.'))
            {
                loose.Add((prefix + name, entry.Info.FullName, entry.Kind));
            }
            else if (!name.StartsWith('@'))
            {
                FindPackages(entry.Info.FullName, prefix + name, packages, loose);
            }
            else
            {
                foreach (var scoped in TreeWalk.Sorted(entry.Info.FullName).Where(e => !e.RelativePath.Contains('/', StringComparison.Ordinal)))
                {
                    var scopedPath = prefix + name + "/" + scoped.RelativePath;
                    if (scoped.Kind == TreeWalk.EntryKind.Directory)
                    {
                        FindPackages(scoped.Info.FullName, scopedPath, packages, loose);
                    }
                    else
                    {
                        loose.Add((scopedPath, scoped.Info.FullName, scoped.Kind));
                    }
                }
            }
        }
    }

    /// <summary>A package copy's line without its path: <c>p\t&lt;id&gt;\t&lt;hash&gt;</c> (a loose entry's: <c>e\t&lt;hash&gt;</c>).</summary>
    private static string Line(PackageFiles.PackageHash package) => $"p\t{package.Id}\t{package.Hash}";

    /// <summary>
    /// The listing. Packages get their entry locators (a fifth field) smallest first while the listing stays within 60 KiB; a changed
    /// package without them is named, not its file.
    /// </summary>
    private static string Render(SortedDictionary<string, string> entries, Dictionary<string, PackageFiles.PackageHash> packages)
    {
        var lines = entries.ToDictionary(e => e.Key, e => $"{e.Value[..2]}{PackageFiles.Escape(e.Key)}\t{e.Value[2..]}", StringComparer.Ordinal);
        var size = Header.Length + lines.Values.Sum(l => Encoding.UTF8.GetByteCount(l) + 1);
        foreach (var (path, package) in packages.OrderBy(p => p.Value.Locators.Length).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            size += package.Locators.Length + 1;
            if (size > Budget)
            {
                break;
            }

            lines[path] += "\t" + package.Locators;
        }

        var text = new StringBuilder(Header);
        foreach (var path in entries.Keys)
        {
            text.Append(lines[path]).Append('\n');
        }

        return text.ToString();
    }

    private static (SortedDictionary<string, string> Lines, Dictionary<string, string> Locators) Parse(string listing)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var locators = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in listing[Header.Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            var path = PackageFiles.Unescape(fields[1]);
            var package = fields[0] == "p";
            result[path] = fields[0] + "\t" + string.Join('\t', fields[2..(package ? 4 : 3)]);
            if (package && fields.Length > 4)
            {
                locators[path] = fields[4];
            }
        }

        return (result, locators);
    }

    private static string Id(string line) => line.Split('\t')[1];

    /// <summary>A package path's requester (the package whose node_modules holds it) and its name.</summary>
    private static (string Requester, string Name) Split(string path)
    {
        var at = path.LastIndexOf("node_modules/", StringComparison.Ordinal);
        return (at == 0 ? "." : path[..(at - 1)], path[(at + "node_modules/".Length)..]);
    }

    /// <summary>Node's lookup of <paramref name="name"/> from <paramref name="from"/> up to <paramref name="root"/>.</summary>
    private static string? Resolve(string root, string from, string name)
    {
        var top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        for (var dir = Path.GetFullPath(from); dir is not null && (dir == top || dir.StartsWith(top + Path.DirectorySeparatorChar, StringComparison.Ordinal)); dir = Path.GetDirectoryName(dir))
        {
            var candidate = Path.Combine(dir, "node_modules", name);
            if (Path.GetFileName(dir) != "node_modules" && File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        return null;
    }
}
