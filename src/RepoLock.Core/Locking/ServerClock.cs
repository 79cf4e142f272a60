using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// "Now" by the file server's clock: the mtime of a probe file just created in the same folder. Never the local clock.
/// </summary>
/// <remarks>
/// The probe is created, not touched: a file system that has no "set to the server's time" request (SFTP, so sshfs; possibly SMB) stamps
/// utimes(NULL) with the client's clock, but a file the server itself creates carries the server's time, there as on NFS and local disks.
/// The name is new every time (create-exclusive), so no leftover probe of a killed waiter can hand us an old mtime.
/// </remarks>
internal static class ServerClock
{
    public static DateTime? Probe(string folder)
    {
        var probe = Path.Combine(folder, $".clock-probe.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }

            return NativeFs.Stat(probe)?.Mtime;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            AtomicFile.TryDelete(probe);
        }
    }
}
