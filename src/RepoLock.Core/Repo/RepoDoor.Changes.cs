using System.Text;
using Microsoft.Win32.SafeHandles;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>What a conditional removal did.</summary>
internal enum RemoveOutcome
{
    /// <summary>The judged instance was moved aside, proved to be the judged one, and removed (or left in the trash folder given).</summary>
    Removed,

    /// <summary>Nothing was there any more.</summary>
    Gone,

    /// <summary>Another instance stood there (a peer replaced it after the judgement): it was put back, untouched.</summary>
    PutBack,

    /// <summary>Another instance stood there and could not be put back without risking to replace a newer one: it waits under its aside name.</summary>
    LeftAside,
}

/// <summary>The changes: each acts only on the instance judged, or never replaces anything.</summary>
internal sealed partial class RepoDoor
{
    /// <summary>
    /// Removes the entry at <paramref name="path"/> only if it is the instance <paramref name="judged"/>: it is renamed aside under a private
    /// name (into <paramref name="trashDir"/> when given, else beside itself as <c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.aside</c>), then
    /// proved to be the judged one (device, inode and mtime; for a file also size) and, if <paramref name="stillRemovable"/> says so now,
    /// removed. Otherwise it is put back without replacing anything (a hard link for a file, <c>RENAME_NOREPLACE</c> for a folder).
    /// A process paused between its judgement and this call can at worst move a newer instance aside for an instant and put it back.
    /// </summary>
    public RemoveOutcome RemoveJudged(string path, FsStat judged, string? trashDir = null, Func<bool>? stillRemovable = null)
    {
        if (!NativeDir.Supported)
        {
            return ManagedRemove(path, judged, trashDir);
        }

        using var parent = OpenFolder(Path.GetDirectoryName(path)!, fresh: false, create: false);
        if (parent is null)
        {
            return RemoveOutcome.Gone;
        }

        var name = Path.GetFileName(path);
        using var asideDir = trashDir is null ? null : OpenFolder(trashDir, fresh: false, create: true);
        var target = asideDir ?? parent;
        var asideName = trashDir is null ? AsideName(name, "aside") : Guid.NewGuid().ToString("N");
        var errno = NativeDir.RenameAt(parent, name, target, asideName, noReplace: false);
        if (errno == NativeDir.ENOENT)
        {
            return RemoveOutcome.Gone;
        }

        if (errno != 0)
        {
            throw NativeDir.Error("move aside", errno, path);
        }

        var moved = NativeDir.StatAt(target, asideName, forceSync: true, out _);
        if (moved is { } m && IsJudged(m, judged) && (stillRemovable?.Invoke() ?? true))
        {
            if (trashDir is null)
            {
                Delete(target, asideName, m.Kind, Path.Combine(Path.GetDirectoryName(path)!, asideName));
            }

            return RemoveOutcome.Removed;
        }

        return PutBack(target, asideName, parent, name, moved?.Kind ?? judged.Kind) ? RemoveOutcome.PutBack : RemoveOutcome.LeftAside;
    }

    /// <summary>
    /// Moves <paramref name="from"/> to <paramref name="to"/> (a staged adaptor into place), never over an existing entry
    /// (<c>RENAME_NOREPLACE</c>; where the file system cannot promise that, NFS and FUSE, a plain rename, which fails over a folder with
    /// entries and so never over an adaptor).
    /// </summary>
    /// <returns>false when something already stands at <paramref name="to"/>.</returns>
    public bool Place(string from, string to)
    {
        if (!NativeDir.Supported)
        {
            try
            {
                Directory.Move(from, to);
                return true;
            }
            catch (IOException) when (Path.Exists(to))
            {
                return false;
            }
        }

        using var fromDir = OpenFolder(Path.GetDirectoryName(from)!, fresh: false, create: false) ?? throw NativeDir.Error("open", NativeDir.ENOENT, from);
        using var toDir = OpenFolder(Path.GetDirectoryName(to)!, fresh: false, create: true)!;
        var errno = NativeDir.RenameAt(fromDir, Path.GetFileName(from), toDir, Path.GetFileName(to), noReplace: true);
        if (errno is NativeDir.EINVAL or NativeDir.ENOSYS or NativeDir.EOPNOTSUPP)
        {
            errno = NativeDir.RenameAt(fromDir, Path.GetFileName(from), toDir, Path.GetFileName(to), noReplace: false);
        }

        return errno switch
        {
            0 => true,
            NativeDir.EEXIST or NativeDir.ENOTEMPTY => false,
            NativeDir.EPERM when Look(to) is not null => false, // SFTP's generic failure for a target that exists
            _ => throw NativeDir.Error("move into place", errno, to),
        };
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="content"/>, complete or not at all, and never over an existing entry: written
    /// under a temp name, flushed, then given its name with a hard link (which fails if the name exists).
    /// </summary>
    /// <returns>false when something already stands at <paramref name="path"/>.</returns>
    public bool CreateFile(string path, string content)
    {
        if (!NativeDir.Supported)
        {
            if (File.Exists(path))
            {
                return false;
            }

            AtomicFile.WriteAllText(path, content);
            return true;
        }

        using var dir = OpenFolder(Path.GetDirectoryName(path)!, fresh: false, create: true)!;
        var name = Path.GetFileName(path);
        var temp = WriteTemp(dir, name, content, path);
        try
        {
            var errno = NativeDir.LinkAt(dir, temp, dir, name);
            if (errno is NativeDir.EPERM or NativeDir.EOPNOTSUPP or NativeDir.ENOSYS or NativeDir.EXDEV)
            {
                errno = NativeDir.RenameAt(dir, temp, dir, name, noReplace: true); // no hard links here: the no-replace rename, where there is one
                if (errno is NativeDir.EINVAL && ListedKind(dir, name) == FsKind.Missing)
                {
                    errno = NativeDir.RenameAt(dir, temp, dir, name, noReplace: false); // window: an entry made between the listing and the rename
                }
            }

            return errno switch
            {
                0 => true,
                NativeDir.EEXIST or NativeDir.EINVAL => false,
                _ => throw NativeDir.Error("create", errno, path),
            };
        }
        finally
        {
            NativeDir.UnlinkAt(dir, temp, directory: false);
        }
    }

    /// <summary>
    /// Replaces the file at <paramref name="path"/> with <paramref name="content"/> only if it is still the instance <paramref name="judged"/>
    /// (null: only if there is none). Where the file system can, the new file is swapped in (<c>RENAME_EXCHANGE</c>: readers always see a
    /// whole file) and the instance swapped out is proved to be the judged one, or swapped back. Elsewhere the instance is checked just
    /// before a plain rename (the window is that instant).
    /// </summary>
    /// <returns>false when the file changed since it was judged: read it again and retry.</returns>
    public bool ReplaceFile(string path, string content, FsStat? judged)
    {
        if (judged is null)
        {
            return CreateFile(path, content);
        }

        if (!NativeDir.Supported)
        {
            AtomicFile.WriteAllText(path, content);
            return true;
        }

        using var dir = OpenFolder(Path.GetDirectoryName(path)!, fresh: true, create: false) ?? throw NativeDir.Error("open", NativeDir.ENOENT, path);
        var name = Path.GetFileName(path);
        var temp = WriteTemp(dir, name, content, path);
        try
        {
            if (LookIn(dir, name, path) is not { } now || !IsJudged(now, judged.Value))
            {
                return false;
            }

            var errno = NativeDir.ExchangeAt(dir, temp, dir, name);
            if (errno == 0)
            {
                if (NativeDir.StatAt(dir, temp, forceSync: true, out _) is { } old && IsJudged(old, judged.Value))
                {
                    return true;
                }

                NativeDir.ExchangeAt(dir, temp, dir, name); // not the instance judged: swap it back
                return false;
            }

            errno = NativeDir.RenameAt(dir, temp, dir, name, noReplace: false);
            return errno == 0 ? true : throw NativeDir.Error("replace", errno, path);
        }
        finally
        {
            NativeDir.UnlinkAt(dir, temp, directory: false);
        }
    }

    /// <summary>Writes a file RepoLock alone owns (a digest listing beside its sentinel): replaces the instance it finds, or creates it.</summary>
    public void WriteFile(string path, string content)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var now = Look(path);
            if (now is { Kind: not FsKind.File })
            {
                throw Diagnostics.Errors.NotRegularFile(path, now.Value.Kind == FsKind.Directory ? "is a folder" : "is a link or a special file");
            }

            if (ReplaceFile(path, content, now))
            {
                return;
            }
        }

        throw new IOException($"{path} kept changing while RepoLock wrote it.");
    }

    /// <summary>The exact name of an entry moved aside or being written (the debris rules match these names, and only these).</summary>
    internal static string AsideName(string name, string kind) => $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.{kind}";

    /// <summary>
    /// The judged instance: same device and inode, same kind, and the same mtime (an inode number freed by a delete can be reused at once
    /// by the next create, which carries a fresh mtime); for a file also the same size.
    /// </summary>
    private static bool IsJudged(FsStat seen, FsStat judged) =>
        seen.SameObject(judged) && seen.Kind == judged.Kind && seen.MtimeTicks == judged.MtimeTicks && (seen.Kind != FsKind.File || seen.Size == judged.Size);

    private static string WriteTemp(SafeFileHandle dir, string name, string content, string path)
    {
        var temp = AsideName(name, "tmp");
        using var handle = NativeDir.CreateFileAt(dir, temp, out var errno);
        if (handle.IsInvalid)
        {
            throw NativeDir.Error("create", errno, Path.Combine(Path.GetDirectoryName(path)!, temp));
        }

        try
        {
            using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
            stream.Write(new UTF8Encoding(false).GetBytes(content));
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            NativeDir.UnlinkAt(dir, temp, directory: false);
            throw;
        }

        return temp;
    }

    /// <summary>Puts a moved entry back under its name without replacing anything that stands there now.</summary>
    private static bool PutBack(SafeFileHandle fromDir, string fromName, SafeFileHandle toDir, string toName, FsKind kind)
    {
        if (kind == FsKind.File)
        {
            var linked = NativeDir.LinkAt(fromDir, fromName, toDir, toName);
            if (linked == 0)
            {
                NativeDir.UnlinkAt(fromDir, fromName, directory: false);
                return true;
            }

            if (linked == NativeDir.EEXIST)
            {
                return false;
            }
        }

        var errno = NativeDir.RenameAt(fromDir, fromName, toDir, toName, noReplace: true);
        if (errno is NativeDir.EINVAL && kind == FsKind.Directory)
        {
            errno = NativeDir.RenameAt(fromDir, fromName, toDir, toName, noReplace: false); // fails over a folder with entries; a complete adaptor has them
        }

        return errno == 0;
    }

    private static void Delete(SafeFileHandle dir, string name, FsKind kind, string path)
    {
        if (kind == FsKind.Directory)
        {
            TreeDelete.TryDelete(path);
        }
        else
        {
            NativeDir.UnlinkAt(dir, name, directory: false);
        }
    }

    private FsStat? ManagedLook(string path)
    {
        RepoConfinement.RealDirectory(Root, Path.GetDirectoryName(path)!, create: false);
        var info = new FileInfo(path);
        return RepoConfinement.KindOf(path) switch
        {
            RepoConfinement.EntryKind.Missing => null,
            RepoConfinement.EntryKind.Directory => new FsStat(FsKind.Directory, 0, 0, 0, 1, Directory.GetLastWriteTimeUtc(path).Ticks),
            RepoConfinement.EntryKind.Link => new FsStat(FsKind.Link, 0, 0, 0, 1, 0),
            _ => new FsStat(FsKind.File, 0, 0, info.Length, 1, info.LastWriteTimeUtc.Ticks),
        };
    }

    private byte[]? ManagedRead(string path, int limit)
    {
        if (ManagedLook(path) is not { } stat)
        {
            return null;
        }

        RefuseUnlessRegular(path, stat);
        return stat.Size > limit ? throw Diagnostics.Errors.TooLarge(path, stat.Size, limit) : File.ReadAllBytes(path);
    }

    private static RemoveOutcome ManagedRemove(string path, FsStat judged, string? trashDir)
    {
        if (!Path.Exists(path))
        {
            return RemoveOutcome.Gone;
        }

        if (judged.Kind == FsKind.Directory && trashDir is not null)
        {
            Directory.CreateDirectory(trashDir);
            Directory.Move(path, Path.Combine(trashDir, Guid.NewGuid().ToString("N")));
        }
        else if (judged.Kind == FsKind.Directory)
        {
            TreeDelete.TryDelete(path);
        }
        else
        {
            File.Delete(path);
        }

        return RemoveOutcome.Removed;
    }
}
