namespace RepoLock.Core.Platform;

/// <summary>One entry as one statx saw it.</summary>
internal readonly record struct FsStat(FsKind Kind, ulong Dev, ulong Ino, long Size, uint Links, long MtimeTicks)
{
    public DateTime Mtime => new(MtimeTicks, DateTimeKind.Utc);

    /// <summary>The same file-system object (device and inode).</summary>
    public bool SameObject(FsStat other) => Dev == other.Dev && Ino == other.Ino;

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} dev {Dev} inode {Ino} size {Size} mtime {Mtime:O}";
}
