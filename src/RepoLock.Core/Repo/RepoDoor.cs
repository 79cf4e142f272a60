using Microsoft.Win32.SafeHandles;

using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// The one door to a repo: every read and every change that RepoLock's build, bundle and tool make inside the repo goes through here, so
/// each rule exists once.
/// <list type="bullet">
/// <item><b>Confined on every component.</b> A path is walked from the repo root one folder at a time, each opened relative to its parent
/// without following a link (<c>openat</c> + <c>O_NOFOLLOW</c>); a link, a file or a special file where a folder belongs is refused with
/// RL4002. The root itself may be a link: the user chose it.</item>
/// <item><b>Regular files only, bounded.</b> Files are opened without following a link and without blocking, and read only when
/// <c>fstat</c> says they are regular files (RL4003 otherwise: a FIFO is never read) and no larger than the limit (RL4006).</item>
/// <item><b>Fresh decisions.</b> <see cref="Look"/> decides existence from listings of every folder from the root down to the entry (a
/// listing asks the file server; a by-name lookup may be answered by a client cache that still says "absent"). An entry a listing shows
/// but a lookup cannot find is revalidated with <c>mkdir</c> on its name, which the kernel always sends to the server.</item>
/// <item><b>Conditional changes</b> (<see cref="RemoveJudged"/>, <see cref="Place"/>, <see cref="CreateFile"/>, <see cref="ReplaceFile"/>):
/// a change acts only on the instance that was judged, or never replaces anything.</item>
/// </list>
/// The cache hit alone uses by-name lookups (<see cref="LooksInstalled"/>): it decides nothing that changes the repo.
/// </summary>
internal sealed partial class RepoDoor
{
    /// <summary>The most RepoLock reads of the repo manifest.</summary>
    public const int ManifestLimit = 16 << 20;

    /// <summary>The most RepoLock reads of an adaptor's <c>package.json</c>, a sentinel, an owner record or a marker.</summary>
    public const int SmallFileLimit = 1 << 20;

    private readonly Dictionary<string, bool> _realFolders = new(StringComparer.Ordinal);

    public RepoDoor(string root) => Root = root;

    public string Root { get; }

    /// <summary>
    /// The cache hit: both files are regular files, and every folder from the root down to them is a real folder (no link, no special file).
    /// By-name lookups (<c>statx</c> without following), with each folder's verdict remembered for this door's lifetime: a few microseconds.
    /// Anything odd is "not installed"; the miss path then reports it with its code.
    /// </summary>
    public bool LooksInstalled(string sentinel, string adaptorManifest) => LooksRegular(sentinel) && LooksRegular(adaptorManifest);

    private bool LooksRegular(string path)
    {
        if (!NativeDir.Supported)
        {
            return RepoConfinement.KindOf(path) == RepoConfinement.EntryKind.File;
        }

        return NativeDir.StatPath(path, out _) is { Kind: FsKind.File } && LooksLikeRealFolder(Path.GetDirectoryName(path)!);
    }

    /// <summary>Whether <paramref name="dir"/> and the folders above it are real folders; RepoLock's folders and scope folders are remembered once real.</summary>
    private bool LooksLikeRealFolder(string dir)
    {
        if (dir.Length <= Root.Length)
        {
            return true;
        }

        var name = Path.GetFileName(dir);
        var remember = name.StartsWith('@') || name.StartsWith('.') || name == "node_modules"; // an adaptor's own folder comes and goes: never remembered
        lock (_realFolders)
        {
            if (remember && _realFolders.ContainsKey(dir))
            {
                return true;
            }
        }

        var real = NativeDir.StatPath(dir, out _) is { Kind: FsKind.Directory } && LooksLikeRealFolder(Path.GetDirectoryName(dir)!);
        if (real && remember)
        {
            lock (_realFolders)
            {
                _realFolders[dir] = true;
            }
        }

        return real;
    }

    /// <summary>
    /// The entry at <paramref name="path"/> from fresh listings (see the type's summary), or null when a listing says it is not there.
    /// A link or a file where a folder belongs above it is RL4002. The entry itself may be of any kind: the caller judges it.
    /// </summary>
    /// <exception cref="RepoLockException">RL4002 for a link or non-folder above the entry.</exception>
    public FsStat? Look(string path)
    {
        if (!NativeDir.Supported)
        {
            return ManagedLook(path);
        }

        using var parent = OpenFolder(Path.GetDirectoryName(path)!, fresh: true, create: false);
        return parent is null ? null : LookIn(parent, Path.GetFileName(path), path);
    }

    /// <summary>A regular file's bytes through a door at its own folder (bounded by <see cref="SmallFileLimit"/>), or null when it is not
    /// there; for files whose folders were walked already (a package.json met on a tree walk).</summary>
    /// <exception cref="RepoLockException">RL4002, RL4003 or RL4006 as <see cref="ReadFile(string, int, bool)"/>.</exception>
    public static byte[]? ReadSmallFile(string path) =>
        new RepoDoor(Path.GetDirectoryName(Path.GetFullPath(path))!).ReadFile(Path.GetFullPath(path), SmallFileLimit);

    /// <summary>A regular file's bytes, or null when it is not there (by a fresh listing when <paramref name="fresh"/>).</summary>
    /// <exception cref="RepoLockException">RL4002 for a link (at the file or above it), RL4003 for a folder or special file, RL4006 past <paramref name="limit"/>.</exception>
    public byte[]? ReadFile(string path, int limit, bool fresh = false) => ReadFile(path, limit, fresh, out _);

    /// <summary>As <see cref="ReadFile(string, int, bool)"/>, with the instance read (its <c>fstat</c>), for a change conditional on it.</summary>
    public byte[]? ReadFile(string path, int limit, bool fresh, out FsStat? instance)
    {
        instance = null;
        if (!NativeDir.Supported)
        {
            instance = ManagedLook(path);
            return ManagedRead(path, limit);
        }

        using var parent = OpenFolder(Path.GetDirectoryName(path)!, fresh, create: false);
        if (parent is null)
        {
            return null;
        }

        var name = Path.GetFileName(path);
        if (fresh && LookIn(parent, name, path) is null)
        {
            return null;
        }

        using var file = NativeDir.OpenFileAt(parent, name, out var errno);
        if (file.IsInvalid)
        {
            return errno switch
            {
                NativeDir.ENOENT => null,
                NativeDir.ELOOP => throw Errors.LinkInRepo(path, $"is a link (to {LinkTarget(path)}), not a file"),
                _ => throw NativeDir.Error("open", errno, path),
            };
        }

        var stat = NativeDir.StatAt(file, "", forceSync: false, out errno) ?? throw NativeDir.Error("look at", errno, path);
        RefuseUnlessRegular(path, stat);
        instance = stat;
        if (stat.Size > limit)
        {
            throw Errors.TooLarge(path, stat.Size, limit);
        }

        using var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
        var buffer = new byte[Math.Min(stat.Size + 1, limit + 1L)];
        var read = 0;
        while (read < buffer.Length && stream.Read(buffer, read, buffer.Length - read) is var n and > 0)
        {
            read += n;
        }

        if (read > limit)
        {
            throw Errors.TooLarge(path, read, limit); // it grew while we read it
        }

        return buffer.AsSpan(0, read).ToArray();
    }

    /// <summary>
    /// Whether a regular file is at <paramref name="path"/> on the file server, asked without trusting a cached "absent" or a lagging listing:
    /// the folders on the way and the file are opened from the root (never through a link), and a name a lookup says is absent is asked
    /// again with an exclusive <c>mkdir</c> (<see cref="Revalidate"/>: a folder made that way is removed at once). Only its "present" is a
    /// fact; for a lock holder deciding that a peer finished while its listing lags (sshfs's directory cache, NFS's until <c>acdirmax</c>).
    /// Without <paramref name="revalidate"/> (a process that holds no lock may not create even for an instant) a cached "absent" stays absent.
    /// </summary>
    public bool OpensOnServer(string path, bool revalidate = true)
    {
        if (!NativeDir.Supported)
        {
            return ManagedLook(path) is { Kind: FsKind.File };
        }

        var current = NativeDir.OpenRoot(Root, out _);
        try
        {
            foreach (var part in PartsBelow(Root, Path.GetDirectoryName(path)!))
            {
                var next = OpenRevalidated(current, part, NativeDir.OpenDirAt, revalidate);
                current.Dispose();
                current = next;
            }

            using var file = OpenRevalidated(current, Path.GetFileName(path), NativeDir.OpenFileAt, revalidate);
            return !file.IsInvalid && NativeDir.StatAt(file, "", forceSync: false, out _) is { Kind: FsKind.File };
        }
        finally
        {
            current.Dispose();
        }

        static SafeFileHandle OpenRevalidated(SafeFileHandle parent, string name, OpenAt open, bool revalidate)
        {
            if (parent.IsInvalid)
            {
                return new SafeFileHandle(); // invalid: nothing below a missing folder
            }

            var handle = open(parent, name, out var errno);
            if (handle.IsInvalid && revalidate && errno is NativeDir.ENOENT or NativeDir.EIO && Revalidate(parent, name))
            {
                handle.Dispose();
                handle = open(parent, name, out _);
            }

            return handle;
        }
    }

    private delegate SafeFileHandle OpenAt(SafeFileHandle dir, string name, out int errno);

    /// <summary>The entries of <paramref name="dir"/> from a fresh listing (empty when it is not there), each with its kind, never followed.</summary>
    /// <exception cref="RepoLockException">RL4002 when <paramref name="dir"/> or a folder above it is a link or not a folder.</exception>
    public IReadOnlyList<(string Name, FsKind Kind)> List(string dir)
    {
        if (!NativeDir.Supported)
        {
            return RepoConfinement.RealDirectory(Root, dir, create: false)
                ? new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 })
                    .Select(e => (e.Name, RepoConfinement.KindOf(e.FullName) switch
                    {
                        RepoConfinement.EntryKind.Directory => FsKind.Directory,
                        RepoConfinement.EntryKind.Link => FsKind.Link,
                        _ => FsKind.File,
                    })).ToList()
                : [];
        }

        using var handle = OpenFolder(dir, fresh: true, create: false);
        if (handle is null)
        {
            return [];
        }

        var entries = NativeDir.List(handle);
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Kind == FsKind.Unknown)
            {
                entries[i] = (entries[i].Name, NativeDir.StatAt(handle, entries[i].Name, forceSync: true, out _)?.Kind ?? FsKind.Missing);
            }
        }

        return entries;
    }

    /// <summary>Checks that <paramref name="dir"/> and every folder between it and the root is a real folder, creating missing ones if asked.</summary>
    /// <returns>false when a folder is missing and <paramref name="create"/> is not set.</returns>
    /// <exception cref="RepoLockException">RL4002 naming the first link or non-folder; nothing was changed.</exception>
    public bool RealFolder(string dir, bool create)
    {
        if (!NativeDir.Supported)
        {
            return RepoConfinement.RealDirectory(Root, dir, create);
        }

        using var handle = OpenFolder(dir, fresh: false, create);
        return handle is not null;
    }

    /// <summary>
    /// Opens <paramref name="dir"/> by walking from the root, one component at a time, never through a link. With <paramref name="fresh"/>
    /// each component is first looked for in its parent's listing. Null when a folder is missing (and not created).
    /// </summary>
    internal SafeFileHandle? OpenFolder(string dir, bool fresh, bool create)
    {
        if (create)
        {
            Directory.CreateDirectory(Root); // the root may be a link (the user chose it); whether a missing root may be created is the caller's call
        }

        var current = NativeDir.OpenRoot(Root, out var errno);
        if (current.IsInvalid)
        {
            current.Dispose();
            return errno == NativeDir.ENOENT ? null : throw NativeDir.Error("open the repo", errno, Root);
        }

        var path = Root;
        foreach (var part in PartsBelow(Root, dir))
        {
            path = Path.Combine(path, part);
            var next = Step(current, part, path, fresh, create);
            current.Dispose();
            if (next is null)
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    private static SafeFileHandle? Step(SafeFileHandle parent, string name, string path, bool fresh, bool create)
    {
        var listed = fresh ? ListedKind(parent, name) : FsKind.Unknown;
        if (listed is FsKind.Link or FsKind.File or FsKind.Special)
        {
            Refuse(path, listed, FsKind.Directory);
        }

        if (listed == FsKind.Missing)
        {
            if (!create)
            {
                return null;
            }

            NativeDir.MkdirAt(parent, name);
        }

        for (var attempt = 0; ; attempt++)
        {
            var handle = NativeDir.OpenDirAt(parent, name, out var errno);
            if (!handle.IsInvalid)
            {
                return handle;
            }

            handle.Dispose();
            switch (errno)
            {
                case NativeDir.ENOENT when attempt == 0 && create:
                    NativeDir.MkdirAt(parent, name);
                    continue;
                case NativeDir.ENOENT or NativeDir.EIO when attempt == 0 && listed is FsKind.Directory or FsKind.Unknown && fresh:
                    if (!Revalidate(parent, name))
                    {
                        return null; // gone since the listing
                    }

                    continue;
                case NativeDir.ENOENT:
                    return null;
                case NativeDir.ELOOP or NativeDir.ENOTDIR:
                    Refuse(path, NativeDir.StatAt(parent, name, forceSync: true, out _)?.Kind ?? FsKind.Link, FsKind.Directory);
                    return null;
                default:
                    throw NativeDir.Error("open the folder", errno, path);
            }
        }
    }

    private static FsStat? LookIn(SafeFileHandle parent, string name, string path)
    {
        var listed = ListedKind(parent, name);
        if (listed == FsKind.Missing)
        {
            return null;
        }

        var stat = NativeDir.StatAt(parent, name, forceSync: true, out var errno);
        if (stat is null && errno is NativeDir.ENOENT or NativeDir.EIO && Revalidate(parent, name))
        {
            // A cached "absent" (ENOENT), or a FUSE client whose cached entry no longer matches the server's file (EIO, after a peer
            // replaced it): the exclusive create made the kernel look the name up afresh.
            stat = NativeDir.StatAt(parent, name, forceSync: true, out errno);
        }

        return stat ?? (errno == NativeDir.ENOENT ? null : throw NativeDir.Error("look at", errno, path));
    }

    /// <summary>
    /// The listing shows <paramref name="name"/> but a lookup said "absent": a client's cached negative entry. <c>mkdir</c> on the name makes
    /// the kernel ask the server (an exclusive create never trusts a cached "absent"); EEXIST refreshes the cache. If the mkdir creates a
    /// folder, the entry was gone after all: ours is removed at once.
    /// </summary>
    /// <returns>true when the entry exists on the server.</returns>
    private static bool Revalidate(SafeFileHandle parent, string name)
    {
        var errno = NativeDir.MkdirAt(parent, name);
        if (errno == 0)
        {
            NativeDir.UnlinkAt(parent, name, directory: true);
            return false;
        }

        return errno is NativeDir.EEXIST or NativeDir.EPERM; // sshfs answers mkdir over an existing entry with SFTP's generic failure (EPERM)
    }

    /// <summary>What a listing of <paramref name="parent"/> says <paramref name="name"/> is; <see cref="FsKind.Missing"/> when not listed.</summary>
    internal static FsKind ListedKind(SafeFileHandle parent, string name)
    {
        foreach (var (entry, kind) in NativeDir.List(parent))
        {
            if (entry == name)
            {
                return kind != FsKind.Unknown ? kind : NativeDir.StatAt(parent, name, forceSync: true, out _)?.Kind ?? FsKind.Unknown;
            }
        }

        return FsKind.Missing;
    }

    private static void RefuseUnlessRegular(string path, FsStat stat)
    {
        switch (stat.Kind)
        {
            case FsKind.File:
                return;
            case FsKind.Directory:
                throw Errors.NotRegularFile(path, "is a folder");
            case FsKind.Link:
                throw Errors.LinkInRepo(path, $"is a link (to {LinkTarget(path)}), not a file");
            default:
                throw Errors.NotRegularFile(path, "is a FIFO, a device or a socket");
        }
    }

    /// <summary>RL4002 unless <paramref name="kind"/> is <paramref name="expected"/>: the one wording for a link or wrong entry in the repo.</summary>
    internal static void Refuse(string path, FsKind kind, FsKind expected)
    {
        if (kind == expected)
        {
            return;
        }

        var what = kind switch
        {
            FsKind.Link => $"is a link (to {LinkTarget(path)}), not a {(expected == FsKind.Directory ? "folder" : "file")}",
            FsKind.File => "is a file, not a folder",
            FsKind.Directory => "is a folder, not a file",
            FsKind.Special => "is a FIFO, a device or a socket, not a folder",
            _ => "disappeared while RepoLock looked at it",
        };
        throw Errors.LinkInRepo(path, what);
    }

    internal static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>The components of <paramref name="dir"/> below <paramref name="root"/>; RL4002 when it is not inside it (checked on path text first, then on disk by the walk).</summary>
    internal static string[] PartsBelow(string root, string dir)
    {
        var relative = Path.GetRelativePath(root, Path.GetFullPath(dir));
        if (relative == ".")
        {
            return [];
        }

        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw Errors.LinkInRepo(dir, $"is not inside the repo {root}");
        }

        return relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
    }
}
