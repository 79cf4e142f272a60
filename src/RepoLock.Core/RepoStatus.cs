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
}
