using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Version 1 of the content digest (<c>sha256-&lt;hex&gt;</c>, RepoLock 0.2 to 0.3), kept so that sentinels it wrote stay verifiable;
/// new installs record <see cref="TreeDigest"/>. It covers the adaptor and every package in its
/// dependency closure (<see cref="DependencyClosure"/>), each once, keyed by <c>name@version</c> rather than by where npm placed it, so a
/// root <c>npm install</c> that moves (dedupes) packages leaves it unchanged while any changed byte changes it. The listing has one
/// line per entry of each package's own files (its folder without its <c>node_modules</c>), in ordinal order of
/// <c>&lt;name&gt;@&lt;version&gt;/&lt;path&gt;</c> ('/' separators; tab, newline and backslash escaped as <c>\t</c>, <c>\n</c>, <c>\\</c>):
/// <code>
/// d	&lt;id/path&gt;                          a directory
/// f	&lt;id/path&gt;	&lt;x or -&gt;	&lt;sha256 hex&gt;   a file: owner's executable bit, SHA-256 of its bytes
/// l	&lt;id/path&gt;	&lt;link target&gt;              a symbolic link, as written (not followed)
/// </code>
/// Each line ends with '\n'; the digest is <c>sha256-</c> and the lowercase hex SHA-256 of the listing's UTF-8 bytes. Timestamps,
/// owners and other mode bits are not part of it.
/// </summary>
internal static class LegacyDigest
{
    public const string Prefix = "sha256-";

    /// <summary>The listing of the adaptor in <paramref name="adaptorDir"/> and its closure, resolved up to <paramref name="root"/>.</summary>
    public static string Listing(string root, string adaptorDir)
    {
        var entries = new List<(string Path, TreeWalk.Entry Entry)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var package in DependencyClosure.Packages(root, adaptorDir))
        {
            var id = IdOf(package) ?? "?" + Path.GetRelativePath(adaptorDir, package).Replace('\\', '/');
            if (seen.Add(id))
            {
                entries.AddRange(TreeWalk.Sorted(package, ownFilesOnly: true).Select(e => (Escape(id + "/" + e.RelativePath), e)));
            }
        }

        // File hashes in parallel: most of the cost is opening thousands of small files, not hashing their bytes.
        var lines = new (string Path, string Line)[entries.Count];
        Parallel.For(0, entries.Count, i =>
        {
            var (path, entry) = entries[i];
            lines[i] = (path, entry.Kind switch
            {
                TreeWalk.EntryKind.Directory => $"d\t{path}",
                TreeWalk.EntryKind.Link => $"l\t{path}\t{Escape(entry.Info.LinkTarget!)}",
                _ => $"f\t{path}\t{(entry.Executable ? 'x' : '-')}\t{HashFile(entry.Info.FullName)}",
            });
        });

        Array.Sort(lines, (a, b) => string.CompareOrdinal(a.Path, b.Path));
        var text = new StringBuilder();
        foreach (var (_, line) in lines)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The digest of a listing.</summary>
    public static string Of(string listing) => Prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(listing))).ToLowerInvariant();

    /// <summary>Null when the adaptor still matches <paramref name="recorded"/>; otherwise the first difference, named when the stored listing is the install's.</summary>
    public static string? Difference(string root, string adaptorDir, string recorded, string? stored)
    {
        var listing = Listing(root, adaptorDir);
        if (Of(listing) == recorded)
        {
            return null;
        }

        var first = stored is not null && Of(stored) == recorded ? FirstDifference(stored, listing) : null;
        return first ?? "unknown (the install's file listing is missing)";
    }

    /// <summary>
    /// The first path (in listing order) whose line differs between two listings, with what happened to it, or null when they are equal.
    /// </summary>
    public static string? FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var b = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0, j = 0; i < a.Length || j < b.Length; i++, j++)
        {
            if (i == a.Length)
            {
                return PathOf(b[j]) + " (added)";
            }

            if (j == b.Length)
            {
                return PathOf(a[i]) + " (missing)";
            }

            if (a[i] == b[j])
            {
                continue;
            }

            var order = string.CompareOrdinal(PathOf(a[i]), PathOf(b[j]));
            return order == 0 ? PathOf(a[i]) + " (changed)" : order < 0 ? PathOf(a[i]) + " (missing)" : PathOf(b[j]) + " (added)";
        }

        return null;
    }

    private static string PathOf(string line) => line.Split('\t')[1];

    private static string? IdOf(string package)
    {
        try
        {
            var json = Repo.RepoDoor.ReadSmallFile(Path.Combine(package, "package.json")) is { } bytes ? JsonNode.Parse(bytes) : null;
            return json?["name"]?.GetValue<string>() is { } name && json["version"]?.GetValue<string>() is { } version ? $"{name}@{version}" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or RepoLockException)
        {
            return null;
        }
    }

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLower(CultureInfo.InvariantCulture);
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
