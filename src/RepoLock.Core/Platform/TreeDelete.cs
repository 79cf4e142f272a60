namespace RepoLock.Core.Platform;

/// <summary>The one recursive delete: a folder and everything in it, links removed as links (never followed).</summary>
internal static class TreeDelete
{
    /// <returns>true when the folder is gone (or was never there).</returns>
    public static bool TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir) && new DirectoryInfo(dir).LinkTarget is null)
            {
                Directory.Delete(dir, recursive: true);
            }
            else if (Path.Exists(dir))
            {
                File.Delete(dir);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
