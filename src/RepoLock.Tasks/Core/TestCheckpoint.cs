namespace RepoLock.Core;

/// <summary>
/// Test-only hook (environment variable REPOLOCK_TEST_CHECKPOINT_DIR): at each named point of an install, writes
/// <c>&lt;dir&gt;/&lt;point&gt;.reached</c>, and while <c>&lt;dir&gt;/&lt;point&gt;.block</c> exists, waits, so a test can kill the build exactly there.
/// </summary>
public static class TestCheckpoint
{
    public static void Reach(string dir, string point)
    {
        try
        {
            File.WriteAllText(Path.Combine(dir, point + ".reached"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            while (File.Exists(Path.Combine(dir, point + ".block")))
            {
                Thread.Sleep(20);
            }
        }
        catch (IOException)
        {
        }
    }
}
