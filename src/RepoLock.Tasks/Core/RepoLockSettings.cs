namespace RepoLock.Core;

public sealed record RepoLockSettings
{
    public LockSettings Lock { get; init; } = new();

    public NpmSettings Npm { get; init; } = new();

    /// <summary>How many adaptors one build installs at once.</summary>
    public int MaxParallel { get; init; } = 4;

    /// <summary>Test seam: called at named points of an install ("after-npm", "after-move", "after-manifest").</summary>
    public Action<string, AdaptorSpecifier>? Checkpoint { get; init; }
}

public enum InstallOutcome
{
    AlreadyInstalled,
    Installed,
    InstalledByPeer,
}

public sealed record AdaptorResult(AdaptorSpecifier Adaptor, InstallOutcome Outcome, TimeSpan Duration, string AdaptorPath, string SentinelPath);

public sealed record EnsureResult(IReadOnlyList<AdaptorResult> Adaptors, IReadOnlyList<RepoLockException> Failures)
{
    public bool Succeeded => Failures.Count == 0;
}
