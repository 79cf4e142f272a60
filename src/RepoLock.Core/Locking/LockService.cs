using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// Cross-process, cross-host locks with the protocol of the npm package proper-lockfile 4.x, so Node workers and RepoLock builds exclude
/// each other: the lock for target file T is the directory <c>T.lock</c> (after symlinks in T are resolved); acquire is an atomic mkdir;
/// the holder refreshes the directory's mtime on a heartbeat; a lock older than the stale age may be broken; release is rmdir.
/// On top of that, RepoLock holders write an owner record next to the lock so a waiter on the same machine can prove a holder dead and
/// take over in about a second instead of waiting out the stale age. Waiting and breaking live in <see cref="LockWaiter"/>.
/// </summary>
internal sealed class LockService
{
    public LockService(LockSettings settings, MachineIdentity? self = null, TimeProvider? time = null, IRepoLockLog? log = null)
    {
        Settings = settings;
        Self = self ?? MachineIdentity.Current;
        Time = time ?? TimeProvider.System;
        Log = log ?? NullLog.Instance;
    }

    public LockSettings Settings { get; }

    public MachineIdentity Self { get; }

    public TimeProvider Time { get; }

    public IRepoLockLog Log { get; }

    /// <summary>Test seam: how holders and waiters touch the lock (mtime, refresh, stat, mkdir, owner record).</summary>
    public ILockFileSystem FileSystem { get; init; } = NativeLockFileSystem.Instance;

    /// <summary>Test seam: the file server's clock as seen from a folder (a probe file's mtime).</summary>
    public Func<string, DateTime?> ServerClock { get; init; } = Locking.ServerClock.Probe;

    /// <summary>proper-lockfile's lock path for a target: realpath(target) + ".lock". The target file is created if missing.</summary>
    public static string LockDirFor(string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target))
        {
            try
            {
                using var _ = new FileStream(target, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (IOException) when (File.Exists(target))
            {
            }
        }

        return NativeFs.RealPath(target) + ".lock";
    }

    public LockWaiter StartWaiting(string target, string subject) => new(this, LockDirFor(target), subject);

    /// <summary>Waits for the lock (reporting the holder every few seconds) and takes it.</summary>
    public async Task<LockHandle> AcquireAsync(string target, string purpose, string subject, CancellationToken cancellationToken)
    {
        using var waiter = StartWaiting(target, subject);
        long? waitStarted = null;
        while (true)
        {
            var handle = waiter.TryAcquire(purpose);
            if (handle is not null)
            {
                if (waitStarted is { } started)
                {
                    // At detailed verbosity: where a build's time went when a short lock (the repo manifest's) was held by a peer.
                    Log.Detail($"RepoLock: {subject}: waited {Time.GetElapsedTime(started).TotalMilliseconds:0} ms for its lock, held by another process.");
                }

                return handle;
            }

            waitStarted ??= Time.GetTimestamp();
            await waiter.PauseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The atomic step: mkdir the lock directory; on success this process holds the lock.</summary>
    internal LockHandle? TryCreate(string lockDir, string purpose) =>
        FileSystem.TryCreateDirectory(lockDir) ? LockHandle.Take(lockDir, purpose, Self, Settings, FileSystem, Time, Log) : null;
}
