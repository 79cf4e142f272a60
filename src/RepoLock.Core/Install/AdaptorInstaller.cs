using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Bundle;
using RepoLock.Core.Diagnostics;
using RepoLock.Core.Locking;
using RepoLock.Core.Npm;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Install;

/// <summary>
/// Installs one adaptor while its alias lock is held. The steps, each safe to stop at:
/// npm into a private staging folder; check what npm produced; one rename into <c>node_modules/&lt;alias&gt;</c>;
/// list the alias in the repo manifest; write the sentinel last. Correctness does not rest on the lock alone: the rename never replaces a
/// complete adaptor that has its sentinel, and manifest and sentinel writes are idempotent.
/// </summary>
internal sealed class AdaptorInstaller
{
    private readonly RepoLayout _layout;
    private readonly RepoLockSettings _settings;
    private readonly LockService _locks;
    private readonly NpmClient _npm;
    private readonly MachineIdentity _self;
    private readonly TimeProvider _time;
    private readonly IRepoLockLog _log;

    internal AdaptorInstaller(RepoLayout layout, RepoLockSettings settings, LockService locks, NpmClient npm, MachineIdentity self, TimeProvider time, IRepoLockLog log)
    {
        _layout = layout;
        _settings = settings;
        _locks = locks;
        _npm = npm;
        _self = self;
        _time = time;
        _log = log;
    }

    /// <summary>
    /// Installs <paramref name="spec"/>. <paramref name="heldLock"/> (if any) is checked immediately before every step that changes shared
    /// state: removing a stale sentinel, moving a half-install aside, the rename, the manifest write (under the manifest lock) and the sentinel.
    /// </summary>
    /// <returns>false when a peer completed the same adaptor meanwhile (its install is kept, ours discarded).</returns>
    public async Task<bool> InstallAsync(AdaptorSpecifier spec, LockHandle? heldLock, CancellationToken cancellationToken, InstallProgress? progress = null)
    {
        var subject = spec.ToString();
        var alias = spec.Alias;
        var target = _layout.AdaptorDir(alias);
        var sentinel = _layout.SentinelPath(alias);

        // Before anything changes: the folders we will act on are real folders inside the repo (RL4002 otherwise), and a manifest we
        // could not update stops us before npm runs.
        _layout.RealDirectory(target, create: false);
        _layout.RealDirectory(Path.GetDirectoryName(sentinel)!, create: false);
        RepoManifest.Read(_layout.ManifestPath);
        StagingFolder.RemoveLeftovers(_layout, alias, _self, _settings.StaleAge, _log);

        using var staging = StagingFolder.Create(_layout, alias, _self);
        var integrity = await _npm.InstallAsync(staging.Path, spec, cancellationToken).ConfigureAwait(false);
        var staged = staging.StagedAdaptor(alias);
        CheckPackage(staged, spec, "the staging folder");
        var listing = ContentDigest.Listing(staging.Path, staged); // once, after npm and before the move: what the bundle later checks against
        Checkpoint("after-npm", spec);

        cancellationToken.ThrowIfCancellationRequested();
        if (_layout.IsInstalledFresh(alias))
        {
            return false; // only when two installers ran at once (a lock judged stale): keep the complete one
        }

        Checkpoint("before-move-aside", spec);
        if (!MoveAsideHalfInstall(alias, target, staging, heldLock, subject))
        {
            return false; // a peer completed it since the check above: its folder and sentinel stay
        }

        Checkpoint("before-move", spec);
        _layout.RealDirectory(Path.GetDirectoryName(target)!, create: true);
        heldLock?.ThrowIfLost(subject);
        try
        {
            Directory.Move(staged, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            // Another installer's complete folder landed first (it too was checked before its rename). Keep it; ours goes with staging.
            _log.Detail($"RepoLock: {subject}: {target} appeared while installing; keeping it.");
        }

        if (progress is not null)
        {
            progress.Left = "the adaptor was moved into place but is not complete yet (no sentinel); the next build completes it";
        }

        Checkpoint("after-move", spec);
        await RepoManifest.AddAsync(_layout, _locks, [spec], heldLock, cancellationToken).ConfigureAwait(false);
        Checkpoint("after-manifest", spec);

        CheckPackage(target, spec, _layout.NodeModules);
        _layout.RealDirectory(Path.GetDirectoryName(sentinel)!, create: true);
        heldLock?.ThrowIfLost(subject);
        AtomicFile.WriteAllText(_layout.DigestListingPath(alias), listing);
        (Sentinel.For(spec, integrity, _self, _time.GetUtcNow()) with { Digest = ContentDigest.Of(listing) }).Write(sentinel);
        return true;
    }

    /// <summary>
    /// An adaptor folder without a complete install (a crash, a foreign tool, a root npm that pruned it) is moved aside and deleted; its
    /// stale sentinel first. A sentinel or package.json that is a link or a folder is never followed: a link is removed as a link, a folder
    /// is moved aside with the half-install. Each destructive step is decided on a fresh look right before it: a peer that completed the
    /// adaptor meanwhile keeps it.
    /// </summary>
    /// <returns>false when a peer's complete install was found, and nothing was touched.</returns>
    private bool MoveAsideHalfInstall(string alias, string target, StagingFolder staging, LockHandle? heldLock, string subject)
    {
        var sentinel = _layout.SentinelPath(alias);
        if (_layout.IsInstalledFresh(alias))
        {
            return false;
        }

        var sentinelKind = RepoConfinement.KindOf(sentinel);
        WarnIfNotRegular(sentinel, sentinelKind);
        var targetKind = RepoConfinement.KindOf(target);
        if (targetKind == RepoConfinement.EntryKind.Directory)
        {
            var manifest = _layout.AdaptorManifest(alias);
            WarnIfNotRegular(manifest, RepoConfinement.KindOf(manifest));
        }

        if (sentinelKind != RepoConfinement.EntryKind.Missing)
        {
            heldLock?.ThrowIfLost(subject);
            if (sentinelKind == RepoConfinement.EntryKind.Directory)
            {
                MoveToTrash(sentinel, staging);
            }
            else
            {
                AtomicFile.TryDelete(sentinel); // unlink: a link goes, never what it points to
            }
        }

        if (targetKind != RepoConfinement.EntryKind.Directory)
        {
            return true;
        }

        if (File.Exists(sentinel))
        {
            return false; // a peer's sentinel landed after ours went: the folder is its complete install
        }

        heldLock?.ThrowIfLost(subject);
        if (MoveToTrash(target, staging))
        {
            _log.Detail($"RepoLock: moved the incomplete {target} aside.");
        }

        return true;
    }

    private static bool MoveToTrash(string path, StagingFolder staging)
    {
        Directory.CreateDirectory(staging.Trash);
        try
        {
            Directory.Move(path, Path.Combine(staging.Trash, Guid.NewGuid().ToString("N"))); // a rename: never follows a link
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private void WarnIfNotRegular(string path, RepoConfinement.EntryKind kind)
    {
        if (kind is RepoConfinement.EntryKind.Link or RepoConfinement.EntryKind.Directory)
        {
            var what = kind == RepoConfinement.EntryKind.Link ? $"is a link (to {new FileInfo(path).LinkTarget})" : "is a folder";
            _log.Warning(ErrorCodes.NotARegularFile, Errors.NotRegular(path, what));
        }
    }

    /// <summary>The folder must hold the package asked for: name and version in its package.json.</summary>
    private static void CheckPackage(string folder, AdaptorSpecifier spec, string where)
    {
        var manifest = Path.Combine(folder, "package.json");
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(manifest));
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            throw Errors.Unexpected(spec.ToString(), $"no readable {manifest} in {where} ({e.Message})");
        }

        string? name, version;
        try
        {
            name = json?["name"]?.GetValue<string>();
            version = json?["version"]?.GetValue<string>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Errors.BadAdaptorManifest(spec.ToString(), manifest, "has a 'name' or 'version' that is not a string");
        }

        if (name != spec.Name || version != spec.VersionText)
        {
            throw Errors.Unexpected(spec.ToString(), $"a package named '{name}@{version}' in {where}, not {spec}");
        }
    }

    private void Checkpoint(string point, AdaptorSpecifier spec) => _settings.Checkpoint?.Invoke(point, spec);
}
