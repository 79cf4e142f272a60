using System.Runtime.InteropServices;

namespace RepoLock.Core.Platform;

/// <summary>The few file-system calls the lock protocol needs that .NET does not expose: atomic mkdir, touch with the server's clock, realpath.</summary>
internal static partial class NativeFs
{
    private const int EEXIST = 17;
    private const int ENOENT = 2;

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

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16, EntryPoint = "CreateDirectoryW")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateDirectoryW(string path, IntPtr securityAttributes);
}
