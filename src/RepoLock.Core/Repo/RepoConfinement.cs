using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// Keeps RepoLock inside the repo whoever else writes it. Containment is checked on what is on disk, never on path text: every component
/// below the repo root is looked at with <c>lstat</c> (no follow), and a link (symlink, or junction on Windows) where RepoLock expects one
/// of its own folders is refused with RL4002 before anything is changed. The repo root itself may be a link: the user chose it.
/// </summary>
/// <remarks>
/// A writer with full access can still swap a folder for a link between this check and the step after it; this closes the mistakes and
/// the planted links that exist before a build looks, which is what a shared volume sees in practice (docs/security.md).
/// </remarks>
internal static class RepoConfinement
{
    /// <summary>What is at a path, looked at without following a link.</summary>
    internal enum EntryKind
    {
        Missing,
        File,
        Directory,
        Link,
    }

    /// <summary>lstat: the entry itself, not what a link points to.</summary>
    public static EntryKind KindOf(string path)
    {
        var attributes = new FileInfo(path).Attributes;
        if ((int)attributes == -1)
        {
            return EntryKind.Missing;
        }

        return (attributes & FileAttributes.ReparsePoint) != 0 ? EntryKind.Link
            : (attributes & FileAttributes.Directory) != 0 ? EntryKind.Directory
            : EntryKind.File;
    }

    /// <summary>True when <paramref name="path"/> is a regular file (not a link, not a folder): the rule for sentinels and manifests.</summary>
    public static bool IsRegularFile(string path) => KindOf(path) == EntryKind.File;

    /// <summary>
    /// Checks that <paramref name="dir"/> and every folder between it and <paramref name="root"/> is a real folder inside the repo, creating
    /// missing ones one level at a time when <paramref name="create"/> is set (each new one is looked at again: a peer may have put a link there).
    /// </summary>
    /// <returns>false when a folder is missing and <paramref name="create"/> is not set.</returns>
    /// <exception cref="RepoLockException">RL4002 naming the first link or non-folder; nothing was changed.</exception>
    public static bool RealDirectory(string root, string dir, bool create)
    {
        var current = root;
        if (create)
        {
            Directory.CreateDirectory(root); // the root may be a link (the user chose it); whether a missing root may be created is AdaptorRepo's call
        }

        foreach (var part in PartsBelow(root, dir))
        {
            current = Path.Combine(current, part);
            var kind = KindOf(current);
            if (kind == EntryKind.Missing)
            {
                if (!create)
                {
                    return false;
                }

                NativeFs.TryCreateDirectory(current);
                kind = KindOf(current);
            }

            Refuse(current, kind, EntryKind.Directory);
        }

        return true;
    }

    /// <summary>The parent folders of <paramref name="file"/> are real folders (created if <paramref name="create"/>), and the file, if there, is a regular file.</summary>
    /// <exception cref="RepoLockException">RL4002 naming the link; nothing was changed.</exception>
    public static void RealFile(string root, string file, bool create)
    {
        if (RealDirectory(root, Path.GetDirectoryName(file)!, create))
        {
            var kind = KindOf(file);
            if (kind != EntryKind.Missing)
            {
                Refuse(file, kind, EntryKind.File);
            }
        }
    }

    /// <summary>Whether <paramref name="path"/>, with every link resolved, is <paramref name="folder"/> (resolved too) or inside it.</summary>
    public static bool ResolvesInside(string path, string folder)
    {
        var real = NativeFs.RealPath(path);
        var inside = Path.TrimEndingDirectorySeparator(NativeFs.RealPath(folder));
        return real == inside || real.StartsWith(inside + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static void Refuse(string path, EntryKind kind, EntryKind expected) => RepoDoor.Refuse(path, AsFsKind(kind), AsFsKind(expected));

    private static FsKind AsFsKind(EntryKind kind) => kind switch
    {
        EntryKind.File => FsKind.File,
        EntryKind.Directory => FsKind.Directory,
        EntryKind.Link => FsKind.Link,
        _ => FsKind.Missing,
    };

    private static string[] PartsBelow(string root, string dir) => RepoDoor.PartsBelow(root, dir);
}
