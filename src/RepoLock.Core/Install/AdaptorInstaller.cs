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

    /// <summary>Installs <paramref name="spec"/>; <paramref name="heldLock"/> (if any) is checked before every step that changes the repo.</summary>
    /// <returns>false when a peer completed the same adaptor meanwhile (its install is kept, ours discarded).</returns>
    public async Task<bool> InstallAsync(AdaptorSpecifier spec, LockHandle? heldLock, CancellationToken cancellationToken)
    {
        var subject = spec.ToString();
        var alias = spec.Alias;
        RepoManifest.Read(_layout.ManifestPath); // a manifest we could not update stops us before npm runs
        StagingFolder.RemoveLeftovers(_layout, alias, _self, _settings.StaleAge, _log);

        using var staging = StagingFolder.Create(_layout, alias, _self);
        var integrity = await _npm.InstallAsync(staging.Path, spec, cancellationToken).ConfigureAwait(false);
        var staged = staging.StagedAdaptor(alias);
        CheckPackage(staged, spec, "the staging folder");
        var listing = ContentDigest.Listing(staging.Path, staged); // once, after npm and before the move: what the bundle later checks against
        Checkpoint("after-npm", spec);

        cancellationToken.ThrowIfCancellationRequested();
        heldLock?.ThrowIfLost(subject);
        var target = _layout.AdaptorDir(alias);
        if (_layout.IsInstalled(alias))
        {
            return false; // only when two installers ran at once (a lock judged stale): keep the complete one
        }

        MoveAsideHalfInstall(alias, target, staging);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            Directory.Move(staged, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            // Another installer's complete folder landed first (it too was checked before its rename). Keep it; ours goes with staging.
            _log.Detail($"RepoLock: {subject}: {target} appeared while installing; keeping it.");
        }

        Checkpoint("after-move", spec);
        await RepoManifest.AddAsync(_layout, _locks, spec, cancellationToken).ConfigureAwait(false);
        Checkpoint("after-manifest", spec);

        heldLock?.ThrowIfLost(subject);
        CheckPackage(target, spec, _layout.NodeModules);
        AtomicFile.WriteAllText(_layout.DigestListingPath(alias), listing);
        (Sentinel.For(spec, integrity, _self, _time.GetUtcNow()) with { Digest = ContentDigest.Of(listing) }).Write(_layout.SentinelPath(alias));
        return true;
    }

    /// <summary>An adaptor folder without a complete install (a crash, a foreign tool) is moved aside and deleted; its stale sentinel first.</summary>
    private void MoveAsideHalfInstall(string alias, string target, StagingFolder staging)
    {
        AtomicFile.TryDelete(_layout.SentinelPath(alias));
        if (!Directory.Exists(target))
        {
            return;
        }

        Directory.CreateDirectory(staging.Trash);
        var aside = Path.Combine(staging.Trash, Guid.NewGuid().ToString("N"));
        try
        {
            Directory.Move(target, aside);
            _log.Detail($"RepoLock: moved the incomplete {target} aside.");
        }
        catch (DirectoryNotFoundException)
        {
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

        var name = json?["name"]?.GetValue<string>();
        var version = json?["version"]?.GetValue<string>();
        if (name != spec.Name || version != spec.VersionText)
        {
            throw Errors.Unexpected(spec.ToString(), $"a package named '{name}@{version}' in {where}, not {spec}");
        }
    }

    private void Checkpoint(string point, AdaptorSpecifier spec) => _settings.Checkpoint?.Invoke(point, spec);
}
