namespace RepoLock.Core.Platform;

/// <summary>What an entry is, seen without following a link.</summary>
internal enum FsKind
{
    Missing,
    File,
    Directory,
    Link,

    /// <summary>A FIFO, a device or a socket: never read, never walked.</summary>
    Special,

    /// <summary>A listing that did not say (DT_UNKNOWN): the entry must be looked at.</summary>
    Unknown,
}
