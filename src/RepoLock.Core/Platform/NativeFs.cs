using System.Runtime.InteropServices;

namespace RepoLock.Core.Platform;

/// <summary>
/// The few file-system calls the lock protocol needs that .NET does not expose: atomic mkdir, touch with the server's clock, realpath, a
/// fresh stat with the inode (statx), and a rename that never replaces its target (renameat2 with RENAME_NOREPLACE).
/// </summary>
internal static partial class NativeFs
{
    private const int EEXIST = 17;
    private const int ENOENT = 2;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtStatxForceSync = 0x2000;
    private const uint StatxBasicStats = 0x7ff;
    private const uint RenameNoReplace = 1;
    private static bool s_noStatx;
    private static bool s_noRenameat2;

    /// <summary>Whether <paramref name="e"/> says the file system is mounted read-only or denies writing (EROFS, EACCES, EPERM).</summary>
    public static bool IsReadOnly(Exception e) =>
        e is UnauthorizedAccessException || (e is IOException && (e.HResult is EROFS or EACCES or EPERM || e.Message.Contains("Read-only file system", StringComparison.Ordinal)));

    private const int EROFS = 30;
    private const int EACCES = 13;
    private const int EPERM = 1;

    /// <summary>Atomic mkdir: true if this call created the directory, false if it already existed.</summary>
    public static bool TryCreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (CreateDirectoryW(path, IntPtr.Zero))
            {
                return true;
            }

            var err = Marshal.GetLastPInvokeError();
            if (err == 183 /* ERROR_ALREADY_EXISTS */)
            {
                return false;
            }

            throw new IOException($"Could not create {path} (Win32 error {err}).");
        }

        if (mkdir(path, Convert.ToUInt32("775", 8)) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST)
        {
            return false;
        }

        throw new IOException($"Could not create {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
    }

    /// <summary>Sets a path's mtime to "now" as the file server sees it (utimes with NULL times), like `touch`.</summary>
    /// <returns>false if the path does not exist.</returns>
    public static bool Touch(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                return false;
            }

            Directory.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return true;
        }

        if (utimes(path, IntPtr.Zero) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENOENT)
        {
            return false;
        }

        throw new IOException($"Could not touch {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

    /// <summary>Modification time, exact to the tick the file system keeps, or null if the path does not exist.</summary>
    public static DateTime? GetMtimeUtc(string path)
    {
        var info = new DirectoryInfo(path);
        info.Refresh();
        if (!info.Exists)
        {
            var file = new FileInfo(path);
            return file.Exists ? file.LastWriteTimeUtc : null;
        }

        return info.LastWriteTimeUtc;
    }

    /// <summary>
    /// Device, inode and mtime of <paramref name="path"/> (not following a final symlink), or null if it does not exist or cannot be read. statx with
    /// AT_STATX_FORCE_SYNC: on NFS and FUSE the kernel asks the server instead of answering from its attribute cache (a file server's own
    /// cache, such as sshfs's, still applies). Where statx is missing the stamp has no identity (<see cref="DirStamp.HasIdentity"/>).
    /// </summary>
    public static unsafe DirStamp? Stat(string path)
    {
        if (OperatingSystem.IsLinux() && !s_noStatx)
        {
            var buffer = stackalloc byte[256];
            try
            {
                if (statx(AtFdCwd, path, AtSymlinkNoFollow | AtStatxForceSync, StatxBasicStats, buffer) == 0)
                {
                    var ino = *(ulong*)(buffer + 32);
                    var seconds = *(long*)(buffer + 112);
                    var nanoseconds = *(uint*)(buffer + 120);
                    var dev = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
                    return new DirStamp(dev, ino, DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));
                }

                if (Marshal.GetLastPInvokeError() != 38 /* ENOSYS */)
                {
                    return null; // ENOENT, or an error (EACCES, ESTALE) that leaves us nothing to go on: as .NET's Exists, "not there"
                }
            }
            catch (EntryPointNotFoundException)
            {
            }

            s_noStatx = true; // a libc before glibc 2.28 or musl 1.2.5, or a kernel before 4.11: no identity, the rules that need it stay off
        }

        return GetMtimeUtc(path) is { } mtime ? new DirStamp(0, 0, mtime.Ticks) : null;
    }

    /// <summary>
    /// rename(2) that fails instead of replacing <paramref name="to"/> (renameat2 with RENAME_NOREPLACE). Plain rename replaces an empty
    /// directory without a word, which is exactly what a lock must never suffer.
    /// </summary>
    /// <returns>true if moved; false if <paramref name="to"/> exists, <paramref name="from"/> is gone, or the file system cannot promise
    /// not to replace (NFS, FUSE mounts such as sshfs, Windows).</returns>
    public static bool TryRenameNoReplace(string from, string to)
    {
        if (!OperatingSystem.IsLinux() || s_noRenameat2)
        {
            return false;
        }

        try
        {
            if (renameat2(AtFdCwd, from, AtFdCwd, to, RenameNoReplace) == 0)
            {
                return true;
            }
        }
        catch (EntryPointNotFoundException)
        {
            s_noRenameat2 = true;
        }

        return false;
    }

    /// <summary>realpath(3): the path with every symlink resolved (proper-lockfile resolves the target this way).</summary>
    public static string RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.GetFullPath(path);
        }

        var p = realpath(path, IntPtr.Zero);
        if (p == IntPtr.Zero)
        {
            return Path.GetFullPath(path);
        }

        try
        {
            return Marshal.PtrToStringUTF8(p) ?? Path.GetFullPath(path);
        }
        finally
        {
            free(p);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int utimes(string path, IntPtr times);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr p);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16, EntryPoint = "CreateDirectoryW")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateDirectoryW(string path, IntPtr securityAttributes);
}
