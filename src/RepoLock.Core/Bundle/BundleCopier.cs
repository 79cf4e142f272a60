namespace RepoLock.Core.Bundle;

/// <summary>
/// The one place that copies files into a bundle: folders recursively, dot-files included, files with their bytes and mode, links as
/// links (npm's <c>.bin</c> entries), never following a link.
/// </summary>
internal static class BundleCopier
{
    /// <summary>Copies the folder <paramref name="from"/> to <paramref name="to"/> (which must not exist yet).</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link);
            }
            else if (entry is DirectoryInfo dir)
            {
                CopyTree(dir.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }

    /// <summary>Copies one file, creating its folder.</summary>
    public static void CopyFile(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }
}
