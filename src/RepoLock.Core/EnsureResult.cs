namespace RepoLock.Core;

/// <summary>The outcome of <see cref="AdaptorRepo.EnsureInstalledAsync"/>: every adaptor that is installed, and every coded failure.</summary>
/// <param name="Adaptors">The adaptors that are installed now, one per alias.</param>
/// <param name="Failures">One coded error per adaptor that could not be installed.</param>
public sealed record EnsureResult(IReadOnlyList<AdaptorResult> Adaptors, IReadOnlyList<RepoLockException> Failures)
{
    /// <summary>True when no adaptor failed.</summary>
    public bool Succeeded => Failures.Count == 0;
}
