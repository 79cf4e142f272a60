using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using Microsoft.Win32.SafeHandles;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Bundle;

/// <summary>
/// The hash of one package copy's own files (its folder without its own <c>node_modules</c>), for <see cref="TreeDigest"/>: the SHA-256
/// of one line per entry, in ordinal order of the path ('\n' after each; tab, newline and backslash escaped as <c>\t</c>, <c>\n</c>, <c>\\</c>):
/// <code>
/// d	&lt;path&gt;                          a folder
/// f	&lt;path&gt;	&lt;x or -&gt;	&lt;sha256 hex&gt;   a regular file: the owner's executable bit and its bytes
/// l	&lt;path&gt;	&lt;link target&gt;              a symbolic link, as written (never followed)
/// o	&lt;path&gt;	&lt;kind&gt;                     a FIFO, socket or device (never opened for reading)
/// </code>
/// Files are opened without following a link and judged on the opened handle (<see cref="FileIdentity.OpenRegular"/>).
/// </summary>
internal static class PackageFiles
{
    private const long SmallFile = 1 << 20;

    /// <summary>
    /// One package copy: its <c>name@version</c> (or <c>?</c>), the hex hash of its own files, and per entry (in order) the first 4 hex
    /// digits of its line's hash with the entry's path: enough to name the first differing entry without storing the names.
    /// </summary>
    internal sealed record PackageHash(string Id, string Hash, string Locators, IReadOnlyList<string> Paths)
    {
        /// <summary>The first entry whose locator differs from <paramref name="recorded"/>, or the entry after the last one (null).</summary>
        public string? FirstDifferingPath(string recorded)
        {
            for (var i = 0; i < Paths.Count; i++)
            {
                if (recorded.Length < (i + 1) * 4 || string.CompareOrdinal(Locators, i * 4, recorded, i * 4, 4) != 0)
                {
                    return Paths[i];
                }
            }

            return null;
        }
    }

    /// <summary>The package's id, the hash of its own files and their locators.</summary>
    public static PackageHash Package(string folder) =>
        Package(folder, TreeWalk.Sorted(folder, ownFilesOnly: true).Select(e => (e.RelativePath, Line(e.RelativePath, e.Info.FullName, e.Kind))).ToList());

    /// <summary>Of several packages at once: every file of every package hashed in parallel (most of the cost is opening small files).</summary>
    public static PackageHash[] Packages(IReadOnlyList<string> folders)
    {
        var entries = folders.Select(f => TreeWalk.Sorted(f, ownFilesOnly: true)).ToList();
        var flat = entries.SelectMany((list, p) => list.Select((e, i) => (Package: p, Index: i, Entry: e))).ToList();
        var lines = entries.Select(list => new (string, string)[list.Count]).ToList();
        Parallel.ForEach(flat, item => lines[item.Package][item.Index] = (item.Entry.RelativePath, Line(item.Entry.RelativePath, item.Entry.Info.FullName, item.Entry.Kind)));
        return folders.Select((f, p) => Package(f, lines[p])).ToArray();
    }

    /// <summary>The hex hash of an entry directly in a node_modules folder that is not a package (a folder: its whole tree).</summary>
    public static string Loose(string path, TreeWalk.EntryKind kind)
    {
        if (kind != TreeWalk.EntryKind.Directory)
        {
            return Hex(Encoding.UTF8.GetBytes(Line("", path, kind)));
        }

        var text = new StringBuilder();
        foreach (var entry in TreeWalk.Sorted(path))
        {
            text.Append(Line(entry.RelativePath, entry.Info.FullName, entry.Kind)).Append('\n');
        }

        return Hex(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static PackageHash Package(string folder, IReadOnlyList<(string Path, string Line)> lines)
    {
        var text = new StringBuilder();
        var locators = new StringBuilder(lines.Count * 4);
        foreach (var (_, line) in lines)
        {
            text.Append(line).Append('\n');
            locators.Append(Hex(Encoding.UTF8.GetBytes(line)), 0, 4);
        }

        return new PackageHash(IdOf(folder), Hex(Encoding.UTF8.GetBytes(text.ToString())), locators.ToString(), lines.Select(l => l.Path).ToList());
    }

    public static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            result.Append(text[i] == '\\' && i + 1 < text.Length ? text[++i] switch { 't' => '\t', 'n' => '\n', var c => c } : text[i]);
        }

        return result.ToString();
    }

    private static string Line(string relative, string full, TreeWalk.EntryKind kind)
    {
        var path = Escape(relative);
        switch (kind)
        {
            case TreeWalk.EntryKind.Directory:
                return $"d\t{path}";
            case TreeWalk.EntryKind.Link:
                return $"l\t{path}\t{Escape(new FileInfo(full).LinkTarget ?? "")}";
        }

        using var handle = FileIdentity.OpenRegular(full, out var info);
        if (handle is null)
        {
            return $"o\t{path}\t{info.Kind}";
        }

        var executable = !OperatingSystem.IsWindows() && (info.Mode & UnixFileMode.UserExecute) != 0;
        return $"f\t{path}\t{(executable ? 'x' : '-')}\t{Convert.ToHexString(HashContent(handle, info.Size)).ToLowerInvariant()}";
    }

    /// <summary>SHA-256 of an opened file: a small one in one read into a pooled buffer (no stream, no per-file buffer), a large one streamed.</summary>
    private static byte[] HashContent(SafeFileHandle handle, long size)
    {
        if (size < SmallFile)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)size + 1);
            try
            {
                int read = 0, n;
                while (read < buffer.Length && (n = RandomAccess.Read(handle, buffer.AsSpan(read), read)) > 0)
                {
                    read += n;
                }

                if (read <= size)
                {
                    return SHA256.HashData(buffer.AsSpan(0, read));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        using var stream = new FileStream(handle, FileAccess.Read, 0); // grew since it was judged, or large: streamed from the start
        stream.Position = 0;
        return SHA256.HashData(stream);
    }

    private static string IdOf(string package)
    {
        var manifest = Path.Combine(package, "package.json");
        try
        {
            var json = FileIdentity.Lstat(manifest).Kind == FileIdentity.Kind.Regular && Repo.RepoDoor.ReadSmallFile(manifest) is { } bytes ? JsonNode.Parse(bytes) : null;
            return json?["name"] is JsonValue n && n.TryGetValue<string>(out var name) && json["version"] is JsonValue v && v.TryGetValue<string>(out var version)
                ? Escape($"{name}@{version}")
                : "?";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return "?";
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
