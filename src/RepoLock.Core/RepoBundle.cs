using RepoLock.Core.Bundle;
using RepoLock.Core.Diagnostics;
using RepoLock.Core.Npm;
using RepoLock.Core.Repo;

namespace RepoLock.Core;

/// <summary>
/// Lays installed adaptors out as a self-contained OpenFn repo (for a container image): a folder with package.json listing exactly the
/// given aliases, the adaptors' folders, everything they resolve outside their folders (their dependency closure, at the same relative
/// place), their sentinels, and the same as a reproducible .tar.gz. Each adaptor's files are checked against the digest recorded at
/// install. Both outputs are written next to their destinations and renamed into place; a failure leaves an old bundle as it was.
/// docs/bundles.md describes the layout and the rules.
/// </summary>
public static class RepoBundle
{
    /// <summary>Writes the bundle folder (and the archive, if asked) for <paramref name="adaptors"/>, all installed in <paramref name="repo"/>.</summary>
    /// <param name="repo">The filled OpenFn repo.</param>
    /// <param name="adaptors">Exact adaptors, each installed (sentinel and package.json present).</param>
    /// <param name="destination">The bundle folder; replaced as a whole.</param>
    /// <param name="archive">The .tar.gz to write, or null for none. Its entries' timestamp is <see cref="RepoLockSettings.SourceDateEpoch"/> when set.</param>
    /// <param name="settings">Uses <see cref="RepoLockSettings.VerifyOnBundle"/>, <see cref="RepoLockSettings.SourceDateEpoch"/>,
    /// <see cref="RepoLockSettings.VerifyAgainstRegistry"/> and the npm settings; null for the defaults.</param>
    /// <param name="log">Receives the warning for adaptors that cannot be verified; null for none.</param>
    /// <exception cref="RepoLockException">An adaptor is not installed, its closure does not resolve, or its files changed since install (RL6xxx); nothing was written.</exception>
    public static void Create(string repo, IReadOnlyList<AdaptorSpecifier> adaptors, string destination, string? archive,
        RepoLockSettings? settings = null, IRepoLockLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(adaptors);
        settings ??= new RepoLockSettings();
        var options = new BundleOptions(settings.VerifyOnBundle, ReproducibleArchive.Timestamp(settings.SourceDateEpoch),
            settings.VerifyAgainstRegistry ? new RegistryCheck(new NpmClient(settings.Npm)) : null);
        Create(new RepoLayout(repo), adaptors, destination, archive, options, log);
    }

    internal static void Create(RepoLayout source, IReadOnlyList<AdaptorSpecifier> adaptors, string destination, string? archive,
        BundleOptions? options = null, IRepoLockLog? log = null) =>
        BundleWriter.Write(source, adaptors, destination, archive,
            options ?? new BundleOptions(true, ReproducibleArchive.DefaultTimestamp), log ?? NullLog.Instance);
}
