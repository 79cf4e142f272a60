using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Where a bundle may go: never the repo, never inside it, never a folder that contains it (a <c>dotnet publish -o</c> aimed at the
/// build output would otherwise replace the repo, locks and all, with the bundle). Compared on resolved paths, so a link to the repo is
/// the repo. The bundle itself is written beside its destination and renamed into place (<see cref="ReplaceWith"/>).
/// </summary>
internal static class BundleDestination
{
    /// <exception cref="RepoLockException">RL1007 naming the destination; nothing was written.</exception>
    public static void Check(RepoLayout source, string destination, string? archive)
    {
        var repo = Resolve(source.Root);
        var dest = Resolve(destination);
        if (dest == repo)
        {
            throw Errors.BundleOverlapsRepo(destination, source.Root, "is");
        }

        if (IsInside(dest, repo))
        {
            throw Errors.BundleOverlapsRepo(destination, source.Root, "is inside");
        }

        if (IsInside(repo, dest))
        {
            throw Errors.BundleOverlapsRepo(destination, source.Root, "contains");
        }

        if (archive is not null)
        {
            var file = Resolve(archive);
            if (file == repo || IsInside(file, repo) || IsInside(repo, file))
            {
                throw Errors.BundleOverlapsRepo(archive, source.Root, IsInside(repo, file) ? "contains" : "is in");
            }
        }
    }

    /// <summary>
    /// Puts the complete bundle folder <paramref name="written"/> (written beside <paramref name="dest"/>) in place: an old bundle is moved
    /// aside first and deleted only after the new one is there, so a killed publish leaves the old bundle or the new, never half of one.
    /// </summary>
    public static void ReplaceWith(string written, string dest)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        string? old = null;
        if (Directory.Exists(dest) || File.Exists(dest))
        {
            old = dest + $".old-{Guid.NewGuid():N}";
            Directory.Move(dest, old);
        }

        Directory.Move(written, dest);
        if (old is not null)
        {
            if (RepoConfinement.KindOf(old) == RepoConfinement.EntryKind.Directory)
            {
                Directory.Delete(old, recursive: true); // never follows a link inside it
            }
            else
            {
                AtomicFile.TryDelete(old); // a link or a file: only the entry itself goes
            }
        }
    }

    /// <summary>The path with every link in its existing part resolved; the parts that do not exist yet appended as they are.</summary>
    private static string Resolve(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var rest = new Stack<string>();
        var existing = full;
        while (!Path.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            rest.Push(Path.GetFileName(existing));
            existing = parent;
        }

        var resolved = Path.TrimEndingDirectorySeparator(NativeFs.RealPath(existing));
        return rest.Aggregate(resolved, Path.Combine);
    }

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
