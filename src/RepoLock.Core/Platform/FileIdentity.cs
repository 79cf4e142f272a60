using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RepoLock.Core.Platform;

/// <summary>
/// What an entry is, judged without following a link, with its link count (st_nlink): the bundle ships only regular files that no other
/// name shares, because a hard link inside the repo can be another name of a file outside it. <see cref="OpenRegular"/> opens a file
/// without following a final link and without blocking on a FIFO, and judges the handle it opened (fstat), so what is read is what was
/// judged. Linux uses statx and open(O_NOFOLLOW); elsewhere .NET's own calls answer, with a link count of 1 (not known).
/// </summary>
internal static partial class FileIdentity
{
    /// <summary>What a path is (not following a final link).</summary>
    internal enum Kind
    {
        Missing,
        Regular,
        Directory,
        Link,
        Other,
    }

    /// <summary>The kind, link count, permission bits (the low 12 bits of st_mode) and size of one entry.</summary>
    internal readonly record struct Info(Kind Kind, uint Links, UnixFileMode Mode, long Size);

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private static bool s_noStatx;

    // O_NOFOLLOW differs by architecture: 0400000 on x86 and x64, 0100000 on arm and arm64.
    private static int ONoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x8000 : 0x20000;

    private static bool Native => OperatingSystem.IsLinux() && !s_noStatx;

    /// <summary>lstat: what <paramref name="path"/> is, never following it.</summary>
    public static unsafe Info Lstat(string path)
    {
        if (Native)
        {
            var buffer = stackalloc byte[256];
            try
            {
                if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) == 0)
                {
                    return FromStatx(buffer);
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != 38 /* ENOSYS */)
                {
                    return errno == 2 /* ENOENT */ ? new Info(Kind.Missing, 0, 0, 0)
                        : throw new IOException($"Could not stat {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
                }
            }
            catch (EntryPointNotFoundException)
            {
            }

            s_noStatx = true;
        }

        return Managed(path);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading when it is a regular file (a final link is not followed, a FIFO does not block the call)
    /// and judges the opened handle. Returns null with what the path is when it is not a regular file.
    /// </summary>
    public static unsafe SafeFileHandle? OpenRegular(string path, out Info info)
    {
        if (!Native)
        {
            info = Managed(path);
            return info.Kind == Kind.Regular ? File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read) : null;
        }

        var fd = open(path, ONoFollow | ONonBlock | OCloExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            info = Lstat(path); // ELOOP: a link; ENXIO: a socket; ENOENT: gone
            return info.Kind == Kind.Regular
                ? throw new IOException($"Could not open {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno)
                : null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var buffer = stackalloc byte[256];
        if (statx(fd, "", AtEmptyPath, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new IOException($"Could not stat {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
        }

        info = FromStatx(buffer);
        if (info.Kind != Kind.Regular)
        {
            handle.Dispose();
            return null;
        }

        return handle;
    }

    private static unsafe Info FromStatx(byte* buffer)
    {
        var links = *(uint*)(buffer + 16);
        var mode = *(ushort*)(buffer + 28);
        var size = *(long*)(buffer + 40);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            0xA000 => Kind.Link,
            _ => Kind.Other,
        };
        return new Info(kind, links, (UnixFileMode)(mode & 0xFFF), size);
    }

    private static Info Managed(string path)
    {
        FileSystemInfo entry = new FileInfo(path);
        if (!entry.Exists)
        {
            entry = new DirectoryInfo(path);
            if (!entry.Exists && entry.LinkTarget is null)
            {
                return new Info(Kind.Missing, 0, 0, 0);
            }
        }

        var mode = OperatingSystem.IsWindows() ? UnixFileMode.UserRead | UnixFileMode.UserWrite : entry.UnixFileMode;
        var kind = entry.LinkTarget is not null ? Kind.Link
            : entry is DirectoryInfo ? Kind.Directory
            : (entry.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) != 0 ? Kind.Other
            : Kind.Regular;
        return new Info(kind, 1, mode, entry is FileInfo f ? f.Length : 0);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);
}
