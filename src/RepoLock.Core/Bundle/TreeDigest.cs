using System.Security.Cryptography;
using System.Text;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Version 2 of the content digest (docs/bundles.md, "Content digest"): every entry of the adaptor's folder, every copy of every package
/// npm put in it (nested <c>node_modules</c> and <c>.bin</c> included), keyed by its path. Each folder's hash is the SHA-256 of its
/// entries' lines, in ordinal order of their names ('\n' after each; tab, newline and backslash in names escaped):
/// <code>
/// d	&lt;name&gt;	&lt;the folder's hash, hex&gt;
/// f	&lt;name&gt;	&lt;x or -&gt;	&lt;SHA-256 of the bytes, hex&gt;   x when the owner may execute it
/// l	&lt;name&gt;	&lt;link target as written&gt;
/// o	&lt;name&gt;	&lt;kind&gt;                                  a FIFO, socket or device (never read)
/// </code>
/// The digest is <c>v2-sha256-</c> and the hex hash of the adaptor's folder. The stored listing names no file: its first line carries
/// the digest, then one line per folder (<c>&lt;first 12 hex of its hash&gt;\t&lt;path&gt;</c>), shallow folders first until 60 KiB, so a
/// difference is located to the deepest listed folder that differs. The verdict rests on the full hash, never on the listing.
/// </summary>
internal static class TreeDigest
{
    public const string Prefix = "v2-sha256-";
    public const string Header = "repolock-digest v2 ";
    private const int Budget = 60 * 1024;
    private const int LocatorLength = 12;

    /// <summary>The listing stored at install: the digest on its first line, then the folders' locator hashes.</summary>
    public static string Listing(string adaptorDir)
    {
        var hashes = Hashes(adaptorDir, []);
        var text = new StringBuilder(Header).Append(Prefix).Append(hashes[""]).Append('\n');
        var size = text.Length;
        var kept = new List<string>();
        foreach (var dir in hashes.Keys.Where(k => k.Length > 0).OrderBy(Depth).ThenBy(k => k, StringComparer.Ordinal))
        {
            var line = $"{hashes[dir][..LocatorLength]}\t{Escape(dir)}\n";
            size += Encoding.UTF8.GetByteCount(line);
            if (size > Budget)
            {
                break;
            }

            kept.Add(line);
        }

        kept.Sort((a, b) => string.CompareOrdinal(a[(LocatorLength + 1)..], b[(LocatorLength + 1)..]));
        kept.ForEach(l => text.Append(l));
        return text.ToString();
    }

    /// <summary>The digest a stored listing carries, or null when it is not a version 2 listing.</summary>
    public static string? DigestOf(string listing) =>
        listing.StartsWith(Header, StringComparison.Ordinal) && listing.IndexOf('\n', StringComparison.Ordinal) is var end and > 0
            ? listing[Header.Length..end] : null;

    /// <summary>
    /// Null when <paramref name="adaptorDir"/> matches <paramref name="recorded"/>; otherwise where it differs. <paramref name="dropped"/> are
    /// links (relative path, target) that were left out of a copy on purpose and count as present.
    /// </summary>
    public static string? Difference(string adaptorDir, string recorded, string? stored, IReadOnlyCollection<(string Path, string Target)> dropped)
    {
        var hashes = Hashes(adaptorDir, dropped);
        if (Prefix + hashes[""] == recorded)
        {
            return null;
        }

        if (stored is null || DigestOf(stored) != recorded)
        {
            return "unknown (the install's listing is missing or belongs to another install)";
        }

        var listed = new List<(string Dir, string Locator)>();
        foreach (var line in stored.Split('\n').Skip(1).Where(l => l.Length > LocatorLength))
        {
            listed.Add((Unescape(line[(LocatorLength + 1)..]), line[..LocatorLength]));
        }

        var differing = listed.Where(l => !hashes.TryGetValue(l.Dir, out var h) || !h.StartsWith(l.Locator, StringComparison.Ordinal))
            .Select(l => l.Dir).ToList();
        var at = "";
        while (differing.Find(d => at.Length == 0 || d.StartsWith(at + "/", StringComparison.Ordinal)) is { } deeper)
        {
            at = deeper;
        }

        return at.Length == 0 ? "the adaptor's folder itself (an entry directly in it changed, was added or removed)"
            : !hashes.ContainsKey(at) ? $"{at}/ (missing)"
            : $"{at}/ (an entry in this folder, or below it, changed, was added or removed)";
    }

    /// <summary>Every folder's hash (hex) by its path relative to <paramref name="root"/> ("" for the root itself).</summary>
    internal static Dictionary<string, string> Hashes(string root, IReadOnlyCollection<(string Path, string Target)> extraLinks)
    {
        var entries = TreeWalk.Sorted(root);
        var lines = new string?[entries.Count];

        // File hashes in parallel: most of the cost is opening thousands of small files, not hashing their bytes.
        Parallel.For(0, entries.Count, i =>
        {
            var entry = entries[i];
            var name = Escape(Path.GetFileName(entry.RelativePath));
            lines[i] = entry.Kind switch
            {
                TreeWalk.EntryKind.Directory => null,
                TreeWalk.EntryKind.Link => $"l\t{name}\t{Escape(entry.Info.LinkTarget!)}",
                _ => FileLine(entry.Info.FullName, name),
            };
        });

        var children = new Dictionary<string, List<(string Name, string Path, string? Line)>>(StringComparer.Ordinal) { [""] = [] };
        for (var i = 0; i < entries.Count; i++)
        {
            var path = entries[i].RelativePath;
            if (lines[i] is null)
            {
                children[path] = [];
            }

            children[Parent(path)].Add((Path.GetFileName(path), path, lines[i]));
        }

        foreach (var (path, target) in extraLinks)
        {
            if (children.TryGetValue(Parent(path), out var siblings))
            {
                siblings.Add((Path.GetFileName(path), path, $"l\t{Escape(Path.GetFileName(path))}\t{Escape(target)}"));
            }
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in children.Keys.OrderByDescending(Depth))
        {
            var text = new StringBuilder();
            foreach (var (name, path, line) in children[dir].OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                text.Append(line ?? $"d\t{Escape(name)}\t{hashes[path]}").Append('\n');
            }

            hashes[dir] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
        }

        return hashes;
    }

    private static string FileLine(string path, string name)
    {
        using var handle = FileIdentity.OpenRegular(path, out var info);
        if (handle is null)
        {
            return $"o\t{name}\t{info.Kind}";
        }

        using var stream = new FileStream(handle, FileAccess.Read, 1 << 16);
        var executable = !OperatingSystem.IsWindows() && (info.Mode & UnixFileMode.UserExecute) != 0;
        return $"f\t{name}\t{(executable ? 'x' : '-')}\t{Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant()}";
    }

    private static string Parent(string path) => path.LastIndexOf('/') is var slash and >= 0 ? path[..slash] : "";

    private static int Depth(string path) => path.Length == 0 ? 0 : path.Count(c => c == '/') + 1;

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            result.Append(text[i] == '\\' && i + 1 < text.Length ? text[++i] switch { 't' => '\t', 'n' => '\n', var c => c } : text[i]);
        }

        return result.ToString();
    }
}
