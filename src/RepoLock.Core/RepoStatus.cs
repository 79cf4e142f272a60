namespace RepoLock.Core;

/// <summary>What a repo holds now: adaptors, locks and debris (<see cref="RepoInspector.Inspect"/>).</summary>
/// <param name="Root">The repo folder.</param>
/// <param name="Adaptors">Every alias with a sentinel, a folder, a manifest entry or a held lock, by alias.</param>
/// <param name="Locks">Every lock held, by alias.</param>
/// <param name="Debris">Leftovers of processes that are gone.</param>
public sealed record RepoStatus(string Root, IReadOnlyList<AdaptorInfo> Adaptors, IReadOnlyList<LockInfo> Locks, IReadOnlyList<RepoDebris> Debris)
{
    /// <summary>Bytes in adaptor folders.</summary>
    public long AdaptorBytes => Adaptors.Sum(a => a.Bytes);

    /// <summary>Bytes in debris.</summary>
    public long DebrisBytes => Debris.Sum(d => d.Bytes);

    /// <summary>Every byte under the repo, by category (regular files, links never followed).</summary>
    public RepoSpace Space { get; init; } = new(0, 0, 0, 0, 0);

    /// <summary>What nothing needs and <c>prune</c> (or <c>verify --fix</c>) can reclaim: hoisted packages, orphaned listings, owner records without a lock.</summary>
    public IReadOnlyList<RepoLeftover> Leftovers { get; init; } = [];

    /// <summary>Why hoisted packages were not judged (a lock is held, a closure could not be walked), or null when they were.</summary>
    public string? PackagesNotJudged { get; init; }
}
