using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>"Now" by the file server's clock: the mtime of a probe file just touched in the same folder. Never the local clock.</summary>
internal static class ServerClock
{
    public static DateTime? Probe(string folder)
    {
        var probe = Path.Combine(folder, $".clock-probe.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}");
        try
        {
            File.WriteAllBytes(probe, []);
            NativeFs.Touch(probe);
            return NativeFs.GetMtimeUtc(probe);
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
