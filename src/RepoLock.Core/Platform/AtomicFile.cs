namespace RepoLock.Core.Platform;

/// <summary>Write-temp-then-rename, so readers see the old content or the new, never half of it.</summary>
internal static class AtomicFile
{
    /// <param name="path">The file to replace.</param>
    /// <param name="content">Its new text (UTF-8, no BOM).</param>
    /// <param name="durable">Flush to disk before the rename (the manifest and sentinels). Advisory files such as lock owner records skip it.</param>
    public static void WriteAllText(string path, string content, bool durable = true)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
            {
                writer.Write(content);
                writer.Flush();
                stream.Flush(flushToDisk: durable);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
