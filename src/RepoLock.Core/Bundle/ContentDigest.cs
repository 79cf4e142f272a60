using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RepoLock.Core.Bundle;

/// <summary>
/// The content digest of an installed adaptor folder (docs/bundles.md, "Content digest"). The folder is described by a listing, one line
/// per entry in ordinal order of the path relative to the folder ('/' separators; tab, newline and backslash in names escaped as
/// <c>\t</c>, <c>\n</c>, <c>\\</c>):
/// <code>
/// d	&lt;path&gt;                          a directory
/// f	&lt;path&gt;	&lt;x or -&gt;	&lt;sha256 hex&gt;   a file: owner's executable bit, SHA-256 of its bytes
/// l	&lt;path&gt;	&lt;link target&gt;              a symbolic link, as written (not followed)
/// </code>
/// Each line ends with '\n'; the digest is <c>sha256-</c> and the lowercase hex SHA-256 of the listing's UTF-8 bytes. Timestamps,
/// owners and other mode bits are not part of it.
/// </summary>
internal static class ContentDigest
{
    public const string Prefix = "sha256-";

    /// <summary>The listing of <paramref name="folder"/>.</summary>
    public static string Listing(string folder)
    {
        var text = new StringBuilder();
        foreach (var entry in TreeWalk.Sorted(folder))
        {
            var path = Escape(entry.RelativePath);
            switch (entry.Kind)
            {
                case TreeWalk.EntryKind.Directory:
                    text.Append("d\t").Append(path);
                    break;
                case TreeWalk.EntryKind.Link:
                    text.Append("l\t").Append(path).Append('\t').Append(Escape(entry.Info.LinkTarget!));
                    break;
                default:
                    text.Append("f\t").Append(path).Append('\t').Append(entry.Executable ? 'x' : '-').Append('\t').Append(HashFile(entry.Info.FullName));
                    break;
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The digest of a listing.</summary>
    public static string Of(string listing) => Prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(listing))).ToLowerInvariant();

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

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLower(CultureInfo.InvariantCulture);
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
