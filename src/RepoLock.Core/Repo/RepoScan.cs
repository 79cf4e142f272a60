using System.IO.Enumeration;
using System.Text.Json.Nodes;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// Reads what is in a repo, for the tool's status, verify and prune: the aliases that have sentinels, listings, folders, manifest entries
/// or locks, and sizes. Every name comes from a fresh listing through the door (<see cref="RepoDoor.List"/>), never from a by-name lookup a
/// client cache may answer; links are never followed. Read-only; an entry that does not parse as <c>&lt;name&gt;_&lt;version&gt;</c> is
/// left out (it is not an adaptor's).
/// </summary>
internal static class RepoScan
{
    /// <summary>The suffix of an owner record next to its lock directory (<c>&lt;target&gt;.lock.owner.json</c>).</summary>
    public const string OwnerRecordSuffix = ".lock.lock.owner.json";

    public static IEnumerable<string> SentinelAliases(RepoLayout layout) => WithSuffix(layout, layout.SentinelsDir, ".done");

    /// <summary>Aliases with a content listing (<c>.sentinels/&lt;alias&gt;.files</c>).</summary>
    public static IEnumerable<string> ListingAliases(RepoLayout layout) => WithSuffix(layout, layout.SentinelsDir, ".files");

    public static IEnumerable<string> FolderAliases(RepoLayout layout) =>
        TwoLevels(layout, layout.NodeModules, FsKind.Directory).Where(a => TryParseAlias(a) is not null);

    public static IEnumerable<string> ManifestAliases(JsonObject? manifest) =>
        manifest?["dependencies"] is JsonObject deps ? deps.Select(d => d.Key).Where(a => TryParseAlias(a) is not null) : [];

    /// <summary>Lock directories under <c>.locks</c> (<c>&lt;target&gt;.lock</c>), with the alias they guard (<c>package.json</c> for the manifest).</summary>
    public static IEnumerable<(string Alias, string LockDir)> LockDirs(RepoLayout layout)
    {
        const string suffix = ".lock.lock";
        foreach (var name in TwoLevels(layout, layout.LocksDir, FsKind.Directory).Where(n => n.EndsWith(suffix, StringComparison.Ordinal)))
        {
            yield return (name[..^suffix.Length], Path.Combine(layout.LocksDir, name));
        }
    }

    /// <summary>Owner records under <c>.locks</c> (<c>&lt;lock dir&gt;.owner.json</c>), with the lock directory they describe.</summary>
    public static IEnumerable<(string Record, string LockDir)> OwnerRecords(RepoLayout layout)
    {
        foreach (var name in TwoLevels(layout, layout.LocksDir, FsKind.File).Where(n => n.EndsWith(OwnerRecordSuffix, StringComparison.Ordinal)))
        {
            var record = Path.Combine(layout.LocksDir, name);
            yield return (record, record[..^".owner.json".Length]);
        }
    }

    /// <summary>The adaptor an alias names, or null when it is not <c>&lt;name&gt;_&lt;exact version&gt;</c>.</summary>
    public static AdaptorSpecifier? TryParseAlias(string alias)
    {
        var cut = alias.LastIndexOf('_');
        if (cut <= 0 || cut == alias.Length - 1)
        {
            return null;
        }

        try
        {
            var spec = AdaptorSpecifier.Parse(alias[..cut] + "@" + alias[(cut + 1)..]);
            return spec.IsExact && spec.Alias == alias ? spec : null;
        }
        catch (RepoLockException)
        {
            return null;
        }
    }

    /// <summary>
    /// Bytes of every regular file under <paramref name="path"/> (a file or a folder inside the repo). The entry itself is looked at
    /// through the door without following it: a link there (<c>.staging/evil -&gt; /etc</c>) counts 0, and links below are never followed.
    /// </summary>
    public static long Size(RepoLayout layout, string path)
    {
        try
        {
            return layout.Door.Look(path) switch
            {
                { Kind: FsKind.File } file => file.Size,
                { Kind: FsKind.Directory } => Files(path).Sum(f => f.Bytes),
                _ => 0,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or RepoLockException)
        {
            return 0; // removed while we counted, or a link above it (never followed)
        }
    }

    /// <summary>
    /// Every regular file under the real folder <paramref name="dir"/> with its size, never through a link (links are neither counted nor
    /// walked), skipping what cannot be read. Callers have checked that <paramref name="dir"/> itself is a real folder.
    /// </summary>
    public static IEnumerable<(string Path, long Bytes)> Files(string dir) =>
        new FileSystemEnumerable<(string, long)>(dir, (ref FileSystemEntry e) => (e.ToFullPath(), e.Length), new EnumerationOptions
        {
            RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0, ReturnSpecialDirectories = false,
        })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && (e.Attributes & FileAttributes.ReparsePoint) == 0,
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };

    private static IEnumerable<string> WithSuffix(RepoLayout layout, string dir, string suffix) =>
        TwoLevels(layout, dir, FsKind.File)
            .Where(n => n.EndsWith(suffix, StringComparison.Ordinal))
            .Select(n => n[..^suffix.Length])
            .Where(a => TryParseAlias(a) is not null);

    /// <summary>Names of entries of <paramref name="kind"/> one level down, and two levels down inside real <c>@scope</c> folders (as <c>@scope/name</c>), from fresh listings.</summary>
    private static List<string> TwoLevels(RepoLayout layout, string dir, FsKind kind)
    {
        var names = new List<string>();
        foreach (var (name, entryKind) in layout.Door.List(dir))
        {
            if (entryKind == FsKind.Directory && name.StartsWith('@'))
            {
                names.AddRange(layout.Door.List(Path.Combine(dir, name)).Where(e => e.Kind == kind).Select(e => $"{name}/{e.Name}"));
            }
            else if (entryKind == kind)
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
