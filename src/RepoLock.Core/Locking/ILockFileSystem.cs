using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// The two file-system calls a lock holder repeats: read the lock directory's mtime, refresh it. A seam, so tests can play a shared file
/// system whose client caches attributes (an NFS client within acdirmax, sshfs, SMB), which no local disk does.
/// </summary>
internal interface ILockFileSystem
{
    DateTime? GetMtimeUtc(string path);

    /// <returns>false if the path does not exist.</returns>
    bool Touch(string path);

    /// <summary>Which directory is at <paramref name="path"/> (device, inode), or null if none; the mtime is read with <see cref="GetMtimeUtc"/>.</summary>
    DirStamp? Stat(string path) => NativeFs.Stat(path);
}
