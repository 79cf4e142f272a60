using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using RepoLock.Core.Diagnostics;

namespace RepoLock.Core.Bundle;

/// <summary>
/// The packages an adaptor needs at run time that live outside its own folder, found the way Node resolves a bare import: from the
/// requiring package's folder up to the repo root, <c>node_modules/&lt;name&gt;</c> at each level (docs/bundles.md, "Closure").
/// Followed: <c>dependencies</c> (required), installed <c>optionalDependencies</c>, and <c>peerDependencies</c> where they resolve.
/// Each package folder is visited once. A required dependency that resolves nowhere is RL6001; a package found outside the adaptor's
/// folder whose version does not fit a range that asks for it is RL6002 (the shared repo holds one version at one place).
/// </summary>
internal sealed partial class DependencyClosure
{
    private readonly string _root;
    private readonly Repo.RepoDoor _door;
    private readonly string _adaptorDir;
    private readonly string _adaptor;
    private readonly bool _strict;
    private readonly HashSet<string> _visited = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _outside = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    private DependencyClosure(string root, string adaptorDir, string adaptor, bool strict)
    {
        _strict = strict;
        _root = root;
        _door = new Repo.RepoDoor(root);
        _adaptorDir = adaptorDir;
        _adaptor = adaptor;
    }

    /// <summary>
    /// Package folders (absolute paths under <paramref name="repoRoot"/>) outside <paramref name="adaptorDir"/> that the adaptor needs;
    /// folders nested in another folder of the result are left out (they are copied with it).
    /// </summary>
    public static IReadOnlyList<string> Resolve(string repoRoot, string adaptorDir, string adaptor) =>
        Outermost(Walk(repoRoot, adaptorDir, adaptor, strict: true)._outside);

    /// <summary>
    /// Every package folder in the adaptor's closure, the adaptor's own first, each once. Not strict: a required dependency that does
    /// not resolve is left out (the digest describes what is there; the bundle's strict walk reports what is missing).
    /// </summary>
    public static IReadOnlyList<string> Packages(string repoRoot, string adaptorDir) =>
        Walk(repoRoot, adaptorDir, "", strict: false)._order;

    private static DependencyClosure Walk(string repoRoot, string adaptorDir, string adaptor, bool strict)
    {
        var closure = new DependencyClosure(Path.TrimEndingDirectorySeparator(repoRoot), Path.TrimEndingDirectorySeparator(adaptorDir), adaptor, strict);
        closure.Visit(closure._adaptorDir);
        return closure;
    }

    /// <summary>Of a set of folders, those not inside another one of them, in ordinal order.</summary>
    public static IReadOnlyList<string> Outermost(IEnumerable<string> folders)
    {
        var all = new HashSet<string>(folders, StringComparer.Ordinal);
        return all.Where(f => !Ancestors(f).Any(all.Contains)).Order(StringComparer.Ordinal).ToList();
    }

    private static IEnumerable<string> Ancestors(string path)
    {
        for (var dir = Path.GetDirectoryName(path); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            yield return dir;
        }
    }

    private void Visit(string package)
    {
        var stack = new Stack<string>([package]);
        _visited.Add(package);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            _order.Add(current);
            foreach (var (name, range, required) in Dependencies(current))
            {
                if (Find(current, name) is not { } found)
                {
                    if (required && _strict)
                    {
                        throw Errors.BundleDependencyMissing(_adaptor, name, range, Relative(current), _root);
                    }

                    continue;
                }

                if (_strict && !IsInside(found, _adaptorDir))
                {
                    CheckVersion(current, name, range, found);
                    _outside.Add(found);
                }

                if (_visited.Add(found))
                {
                    stack.Push(found);
                }
            }
        }
    }

    /// <summary>Node's lookup: <c>&lt;dir&gt;/node_modules/&lt;name&gt;</c> for the package's folder and each parent up to the repo root, skipping folders named node_modules.</summary>
    private string? Find(string from, string name)
    {
        if (!PackageName().IsMatch(name))
        {
            return null; // not a name npm installs under node_modules ("../x", "a/b/c"): never a path to follow
        }

        for (var dir = from; dir is not null && (dir == _root || IsInside(dir, _root)); dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) == "node_modules")
            {
                continue;
            }

            var candidate = Path.Combine(dir, "node_modules", name);
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        return null;
    }

    private void CheckVersion(string dependent, string name, string range, string found)
    {
        var version = Read(found)?["version"] switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var text) => text,
            var other => throw Errors.BadAdaptorManifest(_adaptor, Path.Combine(found, "package.json"), $"has a version that is not a string ({other.ToJsonString()})"),
        };
        bool? fits;
        try
        {
            fits = NpmRange.Satisfies(range, version);
        }
        catch (Exception e) when (e is OverflowException or FormatException or ArgumentException)
        {
            throw Errors.BadAdaptorManifest(_adaptor, Path.Combine(dependent, "package.json"), $"asks for {name} with a range no parser takes ('{range}': {e.Message})");
        }

        if (fits == false)
        {
            throw Errors.BundleVersionConflict(_adaptor, Relative(dependent), name, range, version, Relative(found));
        }
    }

    private IEnumerable<(string Name, string Range, bool Required)> Dependencies(string package)
    {
        var manifest = Read(package);
        if (manifest is null)
        {
            yield break; // Find saw its package.json; unreadable now: the digest or the copy reports it
        }

        var optional = Names(manifest["optionalDependencies"]);
        foreach (var (name, range) in Entries(manifest["dependencies"]).Where(d => !optional.ContainsKey(d.Key)))
        {
            yield return (name, range, true);
        }

        // Peers are followed where they resolve, never required: npm may leave an optional or conflicting peer out.
        foreach (var (name, range) in optional.Concat(Entries(manifest["peerDependencies"])))
        {
            yield return (name, range, false);
        }
    }

    private static Dictionary<string, string> Names(JsonNode? node) => Entries(node).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);

    private static IEnumerable<KeyValuePair<string, string>> Entries(JsonNode? node) =>
        node is JsonObject o
            ? o.Where(p => p.Value is JsonValue v && v.TryGetValue<string>(out _)).Select(p => KeyValuePair.Create(p.Key, p.Value!.GetValue<string>()))
            : [];

    /// <summary>A package's package.json through the repo's door: a regular file inside the repo, bounded (a FIFO is never read); null otherwise.</summary>
    private JsonObject? Read(string package)
    {
        try
        {
            return _door.ReadFile(Path.Combine(package, "package.json"), Repo.RepoDoor.SmallFileLimit) is { } bytes ? JsonNode.Parse(bytes) as JsonObject : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return null;
        }
    }

    private string Relative(string path) => Path.GetRelativePath(_root, path).Replace('\\', '/');

    [GeneratedRegex(@"^(@[A-Za-z0-9~-][A-Za-z0-9._~-]*/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*$")]
    private static partial Regex PackageName();

    private static bool IsInside(string path, string folder) => path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
