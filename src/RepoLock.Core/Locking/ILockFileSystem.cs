using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// The file-system calls a lock holder and a waiter repeat on the lock: read the lock directory's mtime, refresh it, stat it, try to make it,
/// read its owner record. A seam, so tests can play a shared file system whose client caches attributes (an NFS client within acdirmax,
/// sshfs, SMB), which no local disk does; and count what a waiting build asks of the file server (it must not go back to asking many times
/// a second).
/// </summary>
internal interface ILockFileSystem
{
    DateTime? GetMtimeUtc(string path);

    /// <returns>false if the path does not exist.</returns>
    bool Touch(string path);

    /// <summary>Which directory is at <paramref name="path"/> (device, inode), or null if none; the mtime is read with <see cref="GetMtimeUtc"/>.</summary>
    DirStamp? Stat(string path) => NativeFs.Stat(path);

    /// <summary>The atomic step of taking a lock: mkdir; true if this call made the directory.</summary>
    bool TryCreateDirectory(string path) => NativeFs.TryCreateDirectory(path);

    /// <summary>The exact text of the lock's owner record, or null if there is none that can be read (three calls: open, read, close).</summary>
    string? ReadOwnerRecord(string lockDir) => SmallFile.TryReadText(LockOwnerRecord.PathFor(lockDir), LockOwnerRecord.MaxBytes);
}
