using System.Runtime.InteropServices;
using System.Text;

namespace RepoLock.Core.Platform;

/// <summary>
/// Reads a small file in three system calls (open, read, close). .NET's file APIs take an advisory lock around every read (flock LOCK_SH,
/// then LOCK_UN: on NFS each is a round trip to the server's lock manager) and read twice to find the end; a waiter that reads a lock's
/// owner record for many minutes, on hundreds of agents, should not. Only what a plain open of the path finds is read: no final symlink
/// is followed, a FIFO does not block (it reads as empty), and a file larger than the bound is refused.
/// </summary>
internal static partial class SmallFile
{
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    /// <summary>The file's text (UTF-8, a byte-order mark dropped), or null if it is missing, a link, not readable or over <paramref name="maxBytes"/>.</summary>
    public static unsafe string? TryReadText(string path, int maxBytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                return new FileInfo(path) is { Exists: true, LinkTarget: null } info && info.Length <= maxBytes ? File.ReadAllText(path) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        var fd = open(path, ONonBlock | OCloExec | ONoFollow);
        if (fd < 0)
        {
            return null;
        }

        var buffer = new byte[maxBytes + 1];
        long read;
        try
        {
            fixed (byte* p = buffer)
            {
                read = (long)ReadFd(fd, p, (nuint)buffer.Length);
            }
        }
        finally
        {
            close(fd);
        }

        // One read returns a small regular file whole (a short read of a regular file ends at its end). Anything else that could happen
        // (an error, a torn read of a record being replaced) yields no text or text that does not parse: an unknown holder, never a wrong one.
        if (read < 0 || read > maxBytes)
        {
            return null;
        }

        var bytes = buffer.AsSpan(0, (int)read);
        if (bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>O_NOFOLLOW, whose value differs between architectures.</summary>
    private static int ONoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadFd(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
