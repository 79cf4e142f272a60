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
    /// state, and every such step goes through the repo's door (<see cref="RepoDoor"/>): decided from fresh listings, and acting only on the
    /// instance it judged, so a holder paused after its check and taken over meanwhile can at worst move a peer's entry aside and put it back.
    /// </summary>
    /// <returns><see cref="InstallOutcome.Installed"/>; <see cref="InstallOutcome.Adopted"/> for a complete stock OpenFn install given its
    /// sentinel in place; <see cref="InstallOutcome.InstalledByPeer"/> when a peer completed the adaptor meanwhile (its install is kept).</returns>
    public async Task<InstallOutcome> InstallAsync(AdaptorSpecifier spec, LockHandle? heldLock, CancellationToken cancellationToken, InstallProgress? progress = null)
    {
        var subject = spec.ToString();
        var alias = spec.Alias;
        var target = _layout.AdaptorDir(alias);
        var sentinel = _layout.SentinelPath(alias);
        var door = _layout.Door;

        // Before anything changes: the folders we will act on are real folders inside the repo (RL4002 otherwise), and a manifest we
        // could not update stops us before npm runs.
        _layout.RealDirectory(target, create: false);
        _layout.RealDirectory(Path.GetDirectoryName(sentinel)!, create: false);
        var manifest = RepoManifest.Read(_layout, fresh: true);
        StagingFolder.RemoveLeftovers(_layout, alias, _locks, _log);
        if (TryAdopt(spec, manifest, heldLock))
        {
            return InstallOutcome.Adopted;
        }

        // npm runs from here: the start line, "still installing" while it runs, the end line (an adoption above runs no npm and says so).
        using var shown = InstallProgressReporter.Start(subject, _layout.Root, _settings.Npm.NpmPath, _time, _log);
        using var staging = StagingFolder.Create(_layout, alias, _self, heldLock?.OwnNonce);
        var integrity = await _npm.InstallAsync(staging.Path, spec, cancellationToken).ConfigureAwait(false);
        var staged = staging.StagedAdaptor(alias);
        CheckPackage(staged, spec, "the staging folder");
        var listing = ContentDigest.Listing(staging.Path, staged); // once, after npm and before the move: what the bundle later checks against
        Checkpoint("after-npm", spec);

        cancellationToken.ThrowIfCancellationRequested();
        if (_layout.IsInstalledFresh(alias))
        {
            return InstallOutcome.InstalledByPeer; // only when two installers ran at once (a lock judged stale): keep the complete one
        }

        Checkpoint("before-move-aside", spec);
        if (!MoveAsideHalfInstall(spec, staging, heldLock))
        {
            // Something was replaced between the judgement and the change, and was put back untouched: a peer's complete install, or
            // a writer still at work. Only the first is a success.
            return _layout.IsInstalledFresh(alias) ? InstallOutcome.InstalledByPeer
                : throw Errors.Lost(subject, heldLock?.LockDir ?? _layout.LockTarget(alias), "the adaptor's folder or sentinel was replaced by another process while this build moved the old one aside; it was put back untouched");
        }

        Checkpoint("before-move", spec);
        _layout.RealDirectory(Path.GetDirectoryName(target)!, create: true);
        heldLock?.ThrowIfLost(subject);
        if (!door.Place(staged, target))
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
        Checkpoint("before-sentinel", spec);
        door.WriteFile(_layout.DigestListingPath(alias), listing);
        var written = door.CreateFile(sentinel, (Sentinel.For(spec, integrity, _self, _time.GetUtcNow()) with { Digest = ContentDigest.Of(listing) }).ToJson());
        if (!written)
        {
            return InstallOutcome.InstalledByPeer; // a sentinel there now is a peer's: never replaced
        }

        shown.Installed(target);
        return InstallOutcome.Installed;
    }

    /// <summary>
    /// A stock OpenFn install (the released engine's root <c>npm install</c>: manifest entry and folder, no sentinel) is complete when the
    /// manifest lists the alias, its package.json names the package and version asked for, and its dependencies resolve as Node would
    /// resolve them. Then it is adopted in place: a sentinel that says so (no content digest: bundles and <c>verify</c> treat it as
    /// unverified), nothing moved, so a worker running a job with it at this moment is not disturbed.
    /// </summary>
    /// <summary>The adoption a build makes (<see cref="TryAdopt"/>), for <c>repolock verify --fix</c> holding the alias lock: staging leftovers swept first.</summary>
    /// <returns>true when the stock install was complete and now has its sentinel.</returns>
    internal bool Adopt(AdaptorSpecifier spec, LockHandle heldLock)
    {
        _layout.RealDirectory(Path.GetDirectoryName(_layout.SentinelPath(spec.Alias))!, create: true);
        var manifest = RepoManifest.Read(_layout, fresh: true);
        StagingFolder.RemoveLeftovers(_layout, spec.Alias, _locks, _log);
        return TryAdopt(spec, manifest, heldLock);
    }

    private bool TryAdopt(AdaptorSpecifier spec, System.Text.Json.Nodes.JsonObject? manifest, LockHandle? heldLock)
    {
        if (!RepoManifest.ListsAlias(manifest, spec) || _layout.Installed(spec.Alias) != FreshState.NoSentinel)
        {
            return false;
        }

        try
        {
            CheckPackage(_layout.AdaptorDir(spec.Alias), spec, _layout.NodeModules);
            DependencyClosure.Resolve(_layout.Root, _layout.AdaptorDir(spec.Alias), spec.ToString());
        }
        catch (Exception e) when (e is RepoLockException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            // Not provably complete (a dependency missing, or a package.json that cannot be judged): replaced, never adopted.
            _log.Detail($"RepoLock: {spec}: the folder found without a sentinel is not provably complete ({e.Message}); it is replaced.");
            return false;
        }

        heldLock?.ThrowIfLost(spec.ToString());
        var sentinel = Sentinel.For(spec, null, _self, _time.GetUtcNow()) with { Adopted = true };
        if (!_layout.Door.CreateFile(_layout.SentinelPath(spec.Alias), sentinel.ToJson()))
        {
            return false;
        }

        _log.Info($"RepoLock: {spec}: adopted the complete install found in {_layout.AdaptorDir(spec.Alias)} without a sentinel (an OpenFn worker's, or an install stopped before its sentinel); nothing was moved. It has no content digest: bundles and verify treat it as unverified.");
        return true;
    }

    /// <summary>
    /// An adaptor folder without a complete install (a crash, a foreign tool, a root npm that pruned it) is moved aside and deleted; its
    /// stale sentinel first. Each is judged from fresh listings and removed only if it is still the instance judged
    /// (<see cref="RepoDoor.RemoveJudged"/>); the folder only while no sentinel has appeared. A link is moved as a link, never followed.
    /// </summary>
    /// <returns>false when a peer's complete install was found, and nothing of it was removed.</returns>
    private bool MoveAsideHalfInstall(AdaptorSpecifier spec, StagingFolder staging, LockHandle? heldLock)
    {
        var alias = spec.Alias;
        var door = _layout.Door;
        var sentinelPath = _layout.SentinelPath(alias);
        var targetPath = _layout.AdaptorDir(alias);
        if (_layout.IsInstalledFresh(alias))
        {
            return false;
        }

        var sentinel = door.Look(sentinelPath);
        WarnIfNotRegular(sentinelPath, sentinel);
        var target = door.Look(targetPath);
        if (target is { Kind: FsKind.Directory })
        {
            WarnIfNotRegular(_layout.AdaptorManifest(alias), door.Look(_layout.AdaptorManifest(alias)));
        }

        if (sentinel is { } judgedSentinel)
        {
            heldLock?.ThrowIfLost(spec.ToString());
            var trash = judgedSentinel.Kind == FsKind.Directory ? staging.Trash : null;
            if (door.RemoveJudged(sentinelPath, judgedSentinel, trash) is RemoveOutcome.PutBack or RemoveOutcome.LeftAside)
            {
                return false; // a peer's new sentinel stood there: put back untouched
            }
        }

        if (target is not { } judgedTarget)
        {
            return true;
        }

        heldLock?.ThrowIfLost(spec.ToString());
        Checkpoint("move-aside-checked", spec);
        switch (door.RemoveJudged(targetPath, judgedTarget, staging.Trash, stillRemovable: () => door.Look(sentinelPath) is null))
        {
            case RemoveOutcome.Removed:
                _log.Detail($"RepoLock: moved the incomplete {targetPath} aside.");
                return true;
            case RemoveOutcome.Gone:
                return true;
            default:
                _log.Info($"RepoLock: {spec}: {targetPath} was replaced by another process after this build judged it incomplete; it was put back untouched.");
                return false;
        }
    }

    private void WarnIfNotRegular(string path, FsStat? stat)
    {
        if (stat is { Kind: not FsKind.File } s)
        {
            var what = s.Kind switch
            {
                FsKind.Link => $"is a link (to {RepoDoor.LinkTarget(path)})",
                FsKind.Directory => "is a folder",
                _ => "is a FIFO, a device or a socket",
            };
            _log.Warning(ErrorCodes.NotARegularFile, Errors.NotRegular(path, what));
        }
    }

    /// <summary>The folder must hold the package asked for: name and version in its package.json.</summary>
    private void CheckPackage(string folder, AdaptorSpecifier spec, string where)
    {
        var manifest = Path.Combine(folder, "package.json");
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(_layout.Door.ReadFile(manifest, RepoDoor.SmallFileLimit) ?? throw new FileNotFoundException("not found", manifest));
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
