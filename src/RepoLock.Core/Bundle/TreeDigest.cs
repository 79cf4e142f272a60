using System.Security.Cryptography;
using System.Text;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Version 2 of the content digest (docs/bundles.md, "Content digest"): every file of the adaptor's folder, every copy of every package
/// npm put in it, keyed by path. The listing (stored whole next to the sentinel) has one line per package copy and one per loose entry
/// of a <c>node_modules</c> folder, in ordinal order of the path (relative to the adaptor's folder, '/' separators, "." for the adaptor):
/// <code>
/// repolock-digest v2
/// p	&lt;path&gt;	&lt;name@version, or ? without one&gt;	&lt;hash of the package's own files&gt;
/// e	&lt;path&gt;	&lt;hash of the entry&gt;                          a file, link or folder directly in a node_modules folder
/// </code>
/// A package's own files are its folder without its own <c>node_modules</c> (<see cref="PackageFiles"/>). Not covered: npm's
/// <c>node_modules/.bin</c> folders (npm recreates them; the bundle judges their links). The digest is <c>v2-sha256-</c> and the hex
/// SHA-256 of the listing. A package copy that a root <c>npm install</c> or <c>npm dedupe</c> moved out of the adaptor's folder still
/// verifies: where its recorded place is empty, the package Node now resolves from there must be byte for byte the recorded one.
/// </summary>
internal static class TreeDigest
{
    public const string Prefix = "v2-sha256-";
    public const string Header = "repolock-digest v2\n";

    /// <summary>The listing of the adaptor in <paramref name="adaptorDir"/>.</summary>
    public static string Listing(string adaptorDir) => Render(Scan(adaptorDir));

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
        var current = Scan(adaptorDir);
        if (DigestOf(Render(current)) == recorded)
        {
            return null;
        }

        if (stored is null || DigestOf(stored) != recorded)
        {
            return "unknown (the install's listing is missing or belongs to another install)";
        }

        var expected = Parse(stored);
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
                    problems[path] = $"{path} ({Id(line)}: its files changed)";
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
            if (Line(PackageFiles.Package(found)) != line)
            {
                problems[path] = $"{path} ({Id(line)}: missing; Node resolves {Path.GetRelativePath(root, found).Replace('\\', '/')} instead, which differs)";
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
                problems[extra] = $"{extra} ({Line(PackageFiles.Package(folder)).Split('\t')[1]}: added, at {Path.GetRelativePath(root, folder).Replace('\\', '/')})";
            }
        }

        foreach (var path in current.Keys.Where(p => !expected.ContainsKey(p)))
        {
            problems[path] = $"{path} ({(current[path].StartsWith("p\t", StringComparison.Ordinal) ? Id(current[path]) + ": " : "")}added)";
        }

        return problems.Count > 0 ? problems.First().Value : null;
    }

    /// <summary>Every package copy and loose entry of the adaptor's folder: path → its listing line.</summary>
    private static SortedDictionary<string, string> Scan(string adaptorDir)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var packages = new List<(string Path, string Folder)>();
        var loose = new List<(string Path, string Full, TreeWalk.EntryKind Kind)>();
        FindPackages(adaptorDir, ".", packages, loose);
        var hashed = PackageFiles.Packages(packages.Select(p => p.Folder).ToList());
        for (var i = 0; i < packages.Count; i++)
        {
            result[packages[i].Path] = Line(hashed[i]);
        }

        foreach (var (path, full, kind) in loose)
        {
            result[path] = $"e\t{PackageFiles.Loose(full, kind)}";
        }

        return result;
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
    private static string Line((string Id, string Hash) package) => $"p\t{package.Id}\t{package.Hash}";

    private static string Render(SortedDictionary<string, string> entries)
    {
        var text = new StringBuilder(Header);
        foreach (var (path, line) in entries)
        {
            text.Append(line[..2]).Append(PackageFiles.Escape(path)).Append('\t').Append(line[2..]).Append('\n');
        }

        return text.ToString();
    }

    private static SortedDictionary<string, string> Parse(string listing)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in listing[Header.Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            var path = PackageFiles.Unescape(fields[1]);
            result[path] = fields[0] + "\t" + string.Join('\t', fields[2..]);
        }

        return result;
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
