using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;

using RepoLock.Core.Diagnostics;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Writes a folder as a .tar.gz whose bytes depend only on the folder's content (docs/bundles.md, "Reproducible archive"): entries in
/// ordinal path order, GNU tar headers (PAX headers would carry the writer's process id in their names), one timestamp for every entry,
/// uid/gid 0 with empty owner names, modes 0755 for folders and executables and 0644 for other files, links as links; and a gzip header
/// with mtime 0 and OS byte 3 (Unix), whatever the platform's zlib wrote.
/// </summary>
internal static class ReproducibleArchive
{
    /// <summary>The entries' timestamp when SOURCE_DATE_EPOCH is not set: 1985-10-26 08:15:00 UTC, the one npm gives every file it packs.</summary>
    public static readonly DateTimeOffset DefaultTimestamp = DateTimeOffset.FromUnixTimeSeconds(499162500);

    private const UnixFileMode Regular = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = Regular | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode Link = Executable | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>The timestamp for archive entries: <c>SOURCE_DATE_EPOCH</c> (whole seconds since 1970) when set, else <see cref="DefaultTimestamp"/>.</summary>
    public static DateTimeOffset Timestamp(string? sourceDateEpoch)
    {
        if (string.IsNullOrWhiteSpace(sourceDateEpoch))
        {
            return DefaultTimestamp;
        }

        return long.TryParse(sourceDateEpoch.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 8_589_934_591
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : throw Errors.BadSourceDateEpoch(sourceDateEpoch);
    }

    /// <summary>Writes <paramref name="folder"/> to <paramref name="path"/> (replaced; any previous file stays until the caller renames).</summary>
    public static void Write(string folder, string path, DateTimeOffset timestamp)
    {
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var entry in TreeWalk.Sorted(folder))
            {
                var item = ToTar(entry, timestamp);
                using (item.DataStream)
                {
                    tar.WriteEntry(item);
                }
            }
        }

        using var patch = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        Span<byte> header = stackalloc byte[10];
        patch.ReadExactly(header);
        header[4] = header[5] = header[6] = header[7] = 0; // MTIME: none
        header[9] = 3; // OS: Unix (zlib writes the OS it was built for)
        patch.Position = 0;
        patch.Write(header);
    }

    private static GnuTarEntry ToTar(TreeWalk.Entry entry, DateTimeOffset timestamp)
    {
        var (type, name, mode) = entry.Kind switch
        {
            TreeWalk.EntryKind.Directory => (TarEntryType.Directory, entry.RelativePath + "/", Executable),
            TreeWalk.EntryKind.Link => (TarEntryType.SymbolicLink, entry.RelativePath, Link),
            _ => (TarEntryType.RegularFile, entry.RelativePath, entry.Executable ? Executable : Regular),
        };
        var tar = new GnuTarEntry(type, name)
        {
            ModificationTime = timestamp,
            Mode = mode,
            Uid = 0,
            Gid = 0,
            UserName = "",
            GroupName = "",
        };
        if (type == TarEntryType.SymbolicLink)
        {
            tar.LinkName = entry.Info.LinkTarget!;
        }
        else if (type == TarEntryType.RegularFile)
        {
            tar.DataStream = File.OpenRead(entry.Info.FullName);
        }

        return tar;
    }
}
