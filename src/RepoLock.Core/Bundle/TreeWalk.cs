namespace RepoLock.Core.Bundle;

/// <summary>
/// Every entry under a folder, dot-files included, never following a link, sorted by relative path (ordinal) so that each pass over
/// the same content sees the same order. Shared by the content digest and the archive writer.
/// </summary>
internal static class TreeWalk
{
    /// <summary>One entry: its path relative to the root with '/' separators, and what it is.</summary>
    internal readonly record struct Entry(string RelativePath, FileSystemInfo Info, EntryKind Kind)
    {
        /// <summary>True for a regular file with the owner's executable bit (always false on Windows).</summary>
        public bool Executable => Kind == EntryKind.File && !OperatingSystem.IsWindows() && (Info.UnixFileMode & UnixFileMode.UserExecute) != 0;
    }

    internal enum EntryKind
    {
        Directory,
        File,
        Link,
    }

    /// <summary>Entries under <paramref name="root"/> (not the root itself), in ordinal order of their relative paths.</summary>
    /// <param name="root">The folder.</param>
    /// <param name="ownFilesOnly">Leave out <c>&lt;root&gt;/node_modules</c>: a package's own files, without the packages npm put inside it.</param>
    public static List<Entry> Sorted(string root, bool ownFilesOnly = false)
    {
        var entries = new List<Entry>();
        Walk(new DirectoryInfo(root), "", entries, ownFilesOnly);
        entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return entries;
    }

    private static void Walk(DirectoryInfo dir, string prefix, List<Entry> into, bool skipNodeModules = false)
    {
        var all = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var info in dir.EnumerateFileSystemInfos("*", all))
        {
            var relative = prefix + info.Name;
            if (skipNodeModules && info.Name == "node_modules")
            {
                continue;
            }

            if ((info.Attributes & FileAttributes.ReparsePoint) != 0 && info.LinkTarget is not null)
            {
                into.Add(new Entry(relative, info, EntryKind.Link));
            }
            else if (info is DirectoryInfo sub)
            {
                into.Add(new Entry(relative, info, EntryKind.Directory));
                Walk(sub, relative + "/", into);
            }
            else
            {
                into.Add(new Entry(relative, info, EntryKind.File));
            }
        }
    }
}
