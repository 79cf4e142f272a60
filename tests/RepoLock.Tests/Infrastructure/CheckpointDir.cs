namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// The test side of <c>REPOLOCK_TEST_CHECKPOINT_DIR</c>: block a named point of an install (<c>&lt;point&gt;.block</c>), wait until a process
/// reaches it (<c>&lt;point&gt;.reached</c> holds its pid), and unblock it.
/// </summary>
internal sealed class CheckpointDir
{
    public const string AfterNpm = "after-npm";
    public const string BeforeMoveAside = "before-move-aside";
    public const string BeforeMove = "before-move";
    public const string AfterMove = "after-move";
    public const string AfterManifest = "after-manifest";

    public CheckpointDir(string path)
    {
        Path = path;
        Directory.CreateDirectory(path);
    }

    public string Path { get; }

    public Dictionary<string, string?> Environment => new() { ["REPOLOCK_TEST_CHECKPOINT_DIR"] = Path };

    public void Block(string point) => System.IO.File.WriteAllText(PathOf(point, "block"), "");

    public void Unblock(string point) => System.IO.File.Delete(PathOf(point, "block"));

    public bool Reached(string point) => System.IO.File.Exists(PathOf(point, "reached"));

    /// <summary>Waits until a process reached <paramref name="point"/> and returns that process's id.</summary>
    public async Task<int> WaitReachedAsync(string point, TimeSpan timeout, Func<string>? details = null)
    {
        await Poll.UntilAsync(() => Reached(point) && ReadPid(point) is not null, timeout, $"checkpoint {point} reached", details);
        return ReadPid(point)!.Value;
    }

    private int? ReadPid(string point)
    {
        try
        {
            return int.TryParse(System.IO.File.ReadAllText(PathOf(point, "reached")).Trim(), out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private string PathOf(string point, string kind) => System.IO.Path.Combine(Path, $"{point}.{kind}");
}
