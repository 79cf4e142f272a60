using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>The lock holder's file-system calls on the real file system.</summary>
internal sealed class NativeLockFileSystem : ILockFileSystem
{
    public static readonly NativeLockFileSystem Instance = new();

    public DateTime? GetMtimeUtc(string path) => NativeFs.GetMtimeUtc(path);

    public bool Touch(string path) => NativeFs.Touch(path);
}
