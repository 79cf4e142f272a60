using System.Text.Json.Nodes;

namespace RepoLock.Core.Repo;

/// <summary>
/// Reads what is in a repo, for the tool's status, verify and prune: the aliases that have sentinels, folders or manifest entries,
/// and folder sizes. Read-only; every entry that does not parse as <c>&lt;name&gt;_&lt;version&gt;</c> is left out (it is not ours).
/// </summary>
internal static class RepoScan
{
    public static IEnumerable<string> SentinelAliases(RepoLayout layout) =>
        TwoLevels(layout.SentinelsDir, files: true)
            .Where(n => n.EndsWith(".done", StringComparison.Ordinal))
            .Select(n => n[..^".done".Length])
            .Where(a => TryParseAlias(a) is not null);

    public static IEnumerable<string> FolderAliases(RepoLayout layout) =>
        TwoLevels(layout.NodeModules, files: false).Where(a => TryParseAlias(a) is not null);

    public static IEnumerable<string> ManifestAliases(JsonObject? manifest) =>
        manifest?["dependencies"] is JsonObject deps ? deps.Select(d => d.Key).Where(a => TryParseAlias(a) is not null) : [];

    /// <summary>Lock directories under <c>.locks</c> (<c>&lt;target&gt;.lock</c>), with the alias they guard (<c>package.json</c> for the manifest).</summary>
    public static IEnumerable<(string Alias, string LockDir)> LockDirs(RepoLayout layout)
    {
        const string suffix = ".lock.lock";
        foreach (var name in TwoLevels(layout.LocksDir, files: false).Where(n => n.EndsWith(suffix, StringComparison.Ordinal)))
        {
            yield return (name[..^suffix.Length], Path.Combine(layout.LocksDir, name));
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

    /// <summary>Bytes of every file under <paramref name="path"/> (a file or a folder); links are counted, never followed.</summary>
    public static long Size(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                return new FileInfo(path).Length;
            }

            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
            return Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", options).Sum(f => f.Length) : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // removed while we counted
        }
    }

    /// <summary>Names one level down, and two levels down inside <c>@scope</c> folders (as <c>@scope/name</c>).</summary>
    private static IEnumerable<string> TwoLevels(string dir, bool files)
    {
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var names = new List<string>();
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo scope && entry.Name.StartsWith('@') && entry.LinkTarget is null)
            {
                names.AddRange(scope.EnumerateFileSystemInfos().Where(e => e is FileInfo == files).Select(e => $"{entry.Name}/{e.Name}"));
            }
            else if (entry is FileInfo == files)
            {
                names.Add(entry.Name);
            }
        }

        return names.Order(StringComparer.Ordinal);
    }
}
