namespace RepoLock.Core.Platform;

/// <summary>
/// One lock directory instance as a single stat saw it: device and inode (which directory it is) and mtime (which incarnation of that
/// inode, and when it was last refreshed). Two directories that exist at the same time never share device and inode; an inode number
/// freed by rmdir may be reused by the next mkdir, but that one carries a fresh mtime.
/// </summary>
/// <param name="Dev">st_dev, or 0 where the platform gives no identity.</param>
/// <param name="Ino">st_ino, or 0 where the platform gives no identity.</param>
/// <param name="MtimeTicks">The mtime in UTC ticks, truncated to 100 ns as .NET's own file APIs do.</param>
internal readonly record struct DirStamp(ulong Dev, ulong Ino, long MtimeTicks)
{
    /// <summary>False on platforms (Windows, a libc without statx) where the directory's identity is unknown: any rule that needs it is off.</summary>
    public bool HasIdentity => Ino != 0;

    public DateTime Mtime => new(MtimeTicks, DateTimeKind.Utc);

    /// <summary>Same directory (device and inode), whatever its mtime.</summary>
    public bool SameDirectory(DirStamp other) => HasIdentity && other.HasIdentity && Dev == other.Dev && Ino == other.Ino;

    public override string ToString() => HasIdentity ? $"dev {Dev} inode {Ino} mtime {Mtime:O}" : $"mtime {Mtime:O}";
}
