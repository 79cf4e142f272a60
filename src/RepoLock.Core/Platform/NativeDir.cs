using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RepoLock.Core.Platform;

/// <summary>
/// The directory-relative calls the repo door needs (Linux): open a folder or a file relative to an open folder without following a link
/// (<c>openat</c> with <c>O_NOFOLLOW</c>), list a folder through its descriptor (<c>fdopendir</c>/<c>readdir</c>), look at one entry
/// (<c>statx</c> without following), and the changes relative to open folders (<c>renameat2</c>, <c>linkat</c>, <c>unlinkat</c>,
/// <c>mkdirat</c>). Acting relative to a descriptor means a link swapped in above the entry after we opened its folder changes nothing.
/// </summary>
internal static unsafe partial class NativeDir
{
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int EROFS = 30;
    public const int EXDEV = 18;
    public const int EOPNOTSUPP = 95;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtRemoveDir = 0x200;
    private const int AtEmptyPath = 0x1000;
    private const int AtStatxForceSync = 0x2000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ONonBlock = 0x800;
    private const int ODirectory = 0x10000;
    private const int ONoFollow = 0x20000;
    private const int OCloExec = 0x80000;
    private const uint RenameNoReplace = 1;
    private const uint RenameExchange = 2;

    /// <summary>Whether the calls are available (Linux with a glibc or musl that has statx and renameat2).</summary>
    public static bool Supported { get; } = OperatingSystem.IsLinux() && Probe();

    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>Opens the folder <paramref name="path"/> (following links: the repo root may be one, the user chose it).</summary>
    public static SafeFileHandle OpenRoot(string path, out int errno)
    {
        var fd = open(path, ORdOnly | ODirectory | OCloExec);
        errno = fd < 0 ? LastError : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens the folder <paramref name="name"/> inside <paramref name="dir"/> without following a link (ELOOP or ENOTDIR then).</summary>
    public static SafeFileHandle OpenDirAt(SafeFileHandle dir, string name, out int errno)
    {
        var fd = openat(Fd(dir), name, ORdOnly | ODirectory | ONoFollow | OCloExec);
        errno = fd < 0 ? LastError : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens the entry <paramref name="name"/> inside <paramref name="dir"/> for reading: no link followed, never blocks on a FIFO.</summary>
    public static SafeFileHandle OpenFileAt(SafeFileHandle dir, string name, out int errno)
    {
        var fd = openat(Fd(dir), name, ORdOnly | ONoFollow | ONonBlock | OCloExec);
        errno = fd < 0 ? LastError : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Creates the file <paramref name="name"/> inside <paramref name="dir"/> for writing; fails with EEXIST if anything is there.</summary>
    public static SafeFileHandle CreateFileAt(SafeFileHandle dir, string name, out int errno)
    {
        var fd = openat(Fd(dir), name, OWrOnly | OCreat | OExcl | ONoFollow | OCloExec, Convert.ToUInt32("644", 8));
        errno = fd < 0 ? LastError : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>What <paramref name="name"/> inside <paramref name="dir"/> is (not following a link), or null with <paramref name="errno"/>.</summary>
    /// <param name="dir">The folder.</param>
    /// <param name="name">The entry, or "" for the folder itself.</param>
    /// <param name="forceSync">Ask the file server, not the client's attribute cache (NFS, FUSE).</param>
    /// <param name="errno">The error when null.</param>
    public static FsStat? StatAt(SafeFileHandle dir, string name, bool forceSync, out int errno)
    {
        var buffer = stackalloc byte[256];
        var flags = AtSymlinkNoFollow | (forceSync ? AtStatxForceSync : 0) | (name.Length == 0 ? AtEmptyPath : 0);
        if (statx(Fd(dir), name, flags, StatxBasicStats, buffer) != 0)
        {
            errno = LastError;
            return null;
        }

        errno = 0;
        return Read(buffer);
    }

    /// <summary>statx of a path, not following its last component (a by-name lookup: the cache-hit path only).</summary>
    public static FsStat? StatPath(string path, out int errno)
    {
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            errno = LastError;
            return null;
        }

        errno = 0;
        return Read(buffer);
    }

    /// <summary>The entries of an open folder, read from the file server (a listing, not a lookup), without "." and "..".</summary>
    public static List<(string Name, FsKind Kind)> List(SafeFileHandle dir)
    {
        var copy = dup(Fd(dir));
        if (copy < 0)
        {
            throw Error("list a folder", LastError);
        }

        var stream = fdopendir(copy);
        if (stream == IntPtr.Zero)
        {
            var e = LastError;
            _ = close(copy);
            throw Error("list a folder", e);
        }

        try
        {
            rewinddir(stream);
            var entries = new List<(string, FsKind)>();
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                var entry = readdir(stream);
                if (entry == IntPtr.Zero)
                {
                    if (LastError != 0)
                    {
                        throw Error("list a folder", LastError);
                    }

                    return entries;
                }

                // struct dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
                var type = *((byte*)entry + 18);
                var name = Marshal.PtrToStringUTF8(entry + 19)!;
                if (name is "." or "..")
                {
                    continue;
                }

                entries.Add((name, type switch
                {
                    4 => FsKind.Directory,
                    8 => FsKind.File,
                    10 => FsKind.Link,
                    0 => FsKind.Unknown,
                    _ => FsKind.Special,
                }));
            }
        }
        finally
        {
            _ = closedir(stream);
        }
    }

    /// <summary>renameat2; <paramref name="noReplace"/> fails with EEXIST instead of replacing (EINVAL where the file system cannot promise it).</summary>
    public static int RenameAt(SafeFileHandle fromDir, string from, SafeFileHandle toDir, string to, bool noReplace) =>
        renameat2(Fd(fromDir), from, Fd(toDir), to, noReplace ? RenameNoReplace : 0) == 0 ? 0 : LastError;

    /// <summary>Swaps two entries atomically (renameat2 RENAME_EXCHANGE); EINVAL where the file system cannot.</summary>
    public static int ExchangeAt(SafeFileHandle dirA, string a, SafeFileHandle dirB, string b) =>
        renameat2(Fd(dirA), a, Fd(dirB), b, RenameExchange) == 0 ? 0 : LastError;

    /// <summary>A new name for a file (a hard link): fails with EEXIST if <paramref name="to"/> exists, so it never replaces anything.</summary>
    public static int LinkAt(SafeFileHandle fromDir, string from, SafeFileHandle toDir, string to) =>
        linkat(Fd(fromDir), from, Fd(toDir), to, 0) == 0 ? 0 : LastError;

    public static int UnlinkAt(SafeFileHandle dir, string name, bool directory) =>
        unlinkat(Fd(dir), name, directory ? AtRemoveDir : 0) == 0 ? 0 : LastError;

    public static int MkdirAt(SafeFileHandle dir, string name) =>
        mkdirat(Fd(dir), name, Convert.ToUInt32("775", 8)) == 0 ? 0 : LastError;

    public static IOException Error(string what, int errno, string? path = null) =>
        new($"Could not {what}{(path is null ? "" : $" {path}")}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static FsStat Read(byte* buffer)
    {
        var nlink = *(uint*)(buffer + 16);
        var mode = *(ushort*)(buffer + 28);
        var ino = *(ulong*)(buffer + 32);
        var size = *(long*)(buffer + 40);
        var seconds = *(long*)(buffer + 112);
        var nanoseconds = *(uint*)(buffer + 120);
        var dev = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        var kind = (mode & 0xF000) switch
        {
            0x4000 => FsKind.Directory,
            0x8000 => FsKind.File,
            0xA000 => FsKind.Link,
            _ => FsKind.Special,
        };
        return new FsStat(kind, dev, ino, size, nlink, DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));
    }

    private static bool Probe()
    {
        try
        {
            var buffer = stackalloc byte[256];
            if (statx(AtFdCwd, "/", 0, StatxBasicStats, buffer) != 0)
            {
                return false;
            }

            renameat2(AtFdCwd, "/nonexistent-repolock-probe", AtFdCwd, "/nonexistent-repolock-probe-2", RenameNoReplace);
            return LastError != ENOSYS;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8, EntryPoint = "openat")]
    private static partial int openat(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial IntPtr fdopendir(int fd);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "readdir64")]
    private static partial IntPtr readdir(IntPtr dir);

    [LibraryImport("libc")]
    private static partial void rewinddir(IntPtr dir);

    [LibraryImport("libc")]
    private static partial int closedir(IntPtr dir);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int linkat(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlinkat(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdirat(int dirfd, string path, uint mode);
}
