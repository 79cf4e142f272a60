using RepoLock.Core.Diagnostics;
using RepoLock.Core.Install;
using RepoLock.Core.Locking;
using RepoLock.Core.Npm;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core;

/// <summary>
/// The changes the people who run a repo make (the <c>repolock</c> tool's unlock, verify --fix and prune), each under the locks builds use
/// and in the order that never lets anything look installed that is not: sentinel first, then the manifest entry, then the folder (moved
/// aside, then deleted). An alias whose lock a live holder has is skipped, never waited for: it is being installed. Safe while builds run.
/// </summary>
public sealed class RepoMaintenance
{
    private const int ForceAttempts = 5;
    private readonly RepoLayout _layout;
    private readonly RepoLockSettings _settings;
    private readonly LockService _locks;
    private readonly RepoInspector _inspector;
    private readonly IRepoLockLog _log;

    /// <summary>A repo to change. Checks the folder and the settings; writes nothing.</summary>
    /// <param name="repo">The OpenFn repo folder.</param>
    /// <param name="settings">Stale age and lock timeout (the manifest lock is waited for); null for the defaults.</param>
    /// <param name="log">Where each change is reported; null drops them.</param>
    /// <exception cref="RepoLockException">RL1003 for a bad or missing folder, RL1006 for a bad setting.</exception>
    public RepoMaintenance(string repo, RepoLockSettings? settings = null, IRepoLockLog? log = null)
    {
        _settings = settings ?? new RepoLockSettings();
        _layout = new RepoLayout(repo);
        _log = log ?? NullLog.Instance;
        var self = MachineIdentity.Current;
        _inspector = new RepoInspector(_layout, _settings, self);
        _locks = new LockService(_settings.Lock, self, _settings.Time, _log);
    }

    /// <summary>
    /// Removes the lock on <paramref name="alias"/> through the waiters' break path (moved aside, checked to be the lock judged, deleted), when
    /// its holder is judged dead now; with <paramref name="force"/> whatever the verdict.
    /// </summary>
    /// <returns>true when this call removed it; false when it was not held (or was released meanwhile).</returns>
    /// <exception cref="RepoLockException">RL7002 when its holder is not judged dead and <paramref name="force"/> is false; nothing was changed.</exception>
    public bool Unlock(string alias, bool force)
    {
        for (var attempt = 0; attempt < ForceAttempts; attempt++)
        {
            if (_inspector.FindLock(alias) is not { } held)
            {
                return false;
            }

            if (held.Verdict != LockVerdict.Dead && !force)
            {
                throw Errors.UnlockRefused(alias, held.LockDir, held.Holder, held.Why);
            }

            bool broken;
            try
            {
                broken = StaleLock.TryBreak(held.LockDir, held.Stamp, held.RecordText, _log);
            }
            catch (Exception e) when (NativeFs.IsReadOnly(e))
            {
                throw Errors.NoPermission(held.LockDir, "remove the lock", e); // not "released meanwhile": this user may not remove it
            }

            if (broken)
            {
                _log.Info($"RepoLock: removed the lock {held.LockDir} ({held.Verdict.ToString().ToLowerInvariant()}: {held.Why}).");
                return true;
            }

            // Refreshed or replaced between our look and the break: judge the new state again.
        }

        return false;
    }

    /// <summary>
    /// Removes one adaptor under its alias lock: sentinel, manifest entry, then the folder moved aside into a staging folder and deleted.
    /// </summary>
    /// <returns>false when its lock is held by a live holder (it is being installed): nothing was changed.</returns>
    public async Task<bool> RemoveAdaptorAsync(string alias, string purpose, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alias);
        using var held = TryLock(alias, purpose);
        if (held is null)
        {
            return false;
        }

        await RemoveHeldAsync(alias, held, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Repairs what is safe to repair, each alias under its lock and judged again from fresh listings first: breaks dead locks through the
    /// waiters' path (judged dead again); adopts stock installs as a build does (never removes them); lists installed adaptors the manifest
    /// lacks; removes damaged adaptors, half-installs, sentinels without folders and manifest entries without adaptors (so the next build
    /// reinstalls what it needs); deletes debris and reclaims leftovers judged again.
    /// </summary>
    /// <returns>The problems left: those whose alias was locked by a live holder, that cannot be judged, or that could not be removed.</returns>
    public async Task<IReadOnlyList<RepoProblem>> FixAsync(IReadOnlyList<RepoProblem> problems, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var left = new List<RepoProblem>();
        foreach (var dead in problems.Where(p => p.Kind == RepoProblemKind.DeadLock))
        {
            try
            {
                Unlock(dead.Alias!, force: false);
            }
            catch (RepoLockException e) when (e.Code == ErrorCodes.UnlockRefused)
            {
                left.Add(dead); // refreshed or taken since: alive now
            }
        }

        var perAlias = new[] { RepoProblemKind.DeadLock, RepoProblemKind.Debris, RepoProblemKind.Leftover };
        foreach (var group in problems.Where(p => p.Alias is not null && !perAlias.Contains(p.Kind)).GroupBy(p => p.Alias!, StringComparer.Ordinal))
        {
            using var held = TryLock(group.Key, "repolock verify --fix");
            if (held is null)
            {
                left.AddRange(group);
                continue;
            }

            var now = _inspector.Recheck(group.Key);
            if (now.Any(p => p.Kind is RepoProblemKind.Unjudgeable))
            {
                left.AddRange(now); // never removed for what we cannot judge
            }
            else if (now.Any(p => p.Kind == RepoProblemKind.StockInstall))
            {
                if (!Adopt(group.Key, held))
                {
                    left.AddRange(now);
                }
            }
            else if (now.Any(p => p.Kind != RepoProblemKind.NotInManifest))
            {
                await RemoveHeldAsync(group.Key, held, cancellationToken).ConfigureAwait(false);
            }
            else if (now.Count > 0 && RepoScan.TryParseAlias(group.Key) is { } spec)
            {
                held.ThrowIfLost(spec.ToString());
                await RepoManifest.AddAsync(_layout, _locks, spec, cancellationToken).ConfigureAwait(false);
                _log.Info($"RepoLock: listed {group.Key} in {_layout.ManifestPath} again.");
            }
        }

        foreach (var debris in problems.Where(p => p.Kind == RepoProblemKind.Debris))
        {
            if (DebrisScan.TryRemove(_layout, new RepoDebris(debris.Path, debris.Detail, 0), _locks))
            {
                _log.Info($"RepoLock: deleted {debris.Path} ({debris.Detail}).");
            }
            else if (_layout.Door.Look(debris.Path) is not null)
            {
                left.Add(debris);
            }
        }

        var leftovers = problems.Where(p => p.Kind == RepoProblemKind.Leftover).ToList();
        if (leftovers.Count > 0)
        {
            var reclaimed = Reclaim(_inspector.Leftovers().Where(l => leftovers.Any(p => p.Path == l.Path)).ToList()).Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
            left.AddRange(leftovers.Where(p => !reclaimed.Contains(p.Path) && _layout.Door.Look(p.Path) is not null));
        }

        return left;
    }

    /// <summary>
    /// Reclaims what nothing needs (<see cref="RepoStatus.Leftovers"/>), each judged again from fresh listings just before it goes and removed
    /// only as the instance judged: a listing under its alias lock while its sentinel is still absent; a package while no lock is held; an
    /// owner record while its lock is still absent. What is no longer a leftover is left alone.
    /// </summary>
    /// <returns>The leftovers removed.</returns>
    public IReadOnlyList<RepoLeftover> Reclaim(IReadOnlyList<RepoLeftover> leftovers)
    {
        ArgumentNullException.ThrowIfNull(leftovers);
        var removed = new List<RepoLeftover>();
        var door = _layout.Door;
        var (generation, current) = (string.Empty, (IReadOnlyList<RepoLeftover>)[]);
        foreach (var leftover in leftovers)
        {
            // Judged again whenever an adaptor folder or a lock came or went since the last judgement (a closure may have changed).
            var now = string.Join('\n', RepoScan.FolderAliases(_layout).Concat(RepoScan.LockDirs(_layout).Select(l => l.LockDir)));
            if (now != generation || current.Count == 0)
            {
                (generation, current) = (now, _inspector.Leftovers());
            }

            if (!current.Any(l => l.Kind == leftover.Kind && l.Path == leftover.Path) || door.Look(leftover.Path) is not { } judged)
            {
                continue;
            }

            RemoveOutcome outcome;
            switch (leftover.Kind)
            {
                case RepoLeftoverKind.Listing:
                    var alias = Path.GetRelativePath(_layout.SentinelsDir, leftover.Path)[..^".files".Length].Replace(Path.DirectorySeparatorChar, '/');
                    using (var held = TryLock(alias, "repolock reclaim"))
                    {
                        if (held is null)
                        {
                            continue;
                        }

                        var sentinel = _layout.SentinelPath(alias);
                        outcome = door.Look(sentinel) is null ? door.RemoveJudged(leftover.Path, judged, stillRemovable: () => door.Look(sentinel) is null) : RemoveOutcome.PutBack;
                    }

                    break;
                case RepoLeftoverKind.Package:
                    outcome = door.RemoveJudged(leftover.Path, judged, stillRemovable: () => !RepoScan.LockDirs(_layout).Any(l => _inspector.FindLock(l.Alias) is { Verdict: not LockVerdict.Dead }));
                    break;
                default:
                    var lockDir = leftover.Path[..^".owner.json".Length];
                    outcome = door.RemoveJudged(leftover.Path, judged, stillRemovable: () => door.Look(lockDir) is null);
                    break;
            }

            if (outcome == RemoveOutcome.Removed)
            {
                removed.Add(leftover);
                _log.Info($"RepoLock: reclaimed {leftover.Path} ({leftover.Why}).");
            }
        }

        return removed;
    }

    /// <summary>Adopts a stock install under its held lock, as a build does.</summary>
    private bool Adopt(string alias, LockHandle held)
    {
        var installer = new AdaptorInstaller(_layout, _settings, _locks, new NpmClient(_settings.Npm), _locks.Self, _settings.Time, _log);
        return RepoScan.TryParseAlias(alias) is { } spec && installer.Adopt(spec, held);
    }

    private LockHandle? TryLock(string alias, string purpose) => _locks.StartWaiting(_layout.LockTarget(alias), alias).TryAcquire(purpose);

    private async Task RemoveHeldAsync(string alias, LockHandle held, CancellationToken cancellationToken)
    {
        var door = _layout.Door;
        var sentinel = _layout.SentinelPath(alias);
        if (door.Look(sentinel) is { } judgedSentinel)
        {
            held.ThrowIfLost(alias);
            if (door.RemoveJudged(sentinel, judgedSentinel) is RemoveOutcome.PutBack or RemoveOutcome.LeftAside)
            {
                throw Errors.Lost(alias, held.LockDir, "its sentinel was replaced by another process while it was being removed (put back untouched)");
            }
        }

        var listing = _layout.DigestListingPath(alias);
        if (door.Look(listing) is { } judgedListing)
        {
            held.ThrowIfLost(alias);
            door.RemoveJudged(listing, judgedListing, stillRemovable: () => door.Look(sentinel) is null); // never leave it orphaned
        }

        await RepoManifest.RemoveAsync(_layout, _locks, alias, cancellationToken).ConfigureAwait(false);
        var folder = _layout.AdaptorDir(alias);
        if (door.Look(folder) is { } judgedFolder)
        {
            held.ThrowIfLost(alias);
            using var staging = StagingFolder.Create(_layout, alias, _locks.Self, held.OwnNonce);
            door.RemoveJudged(folder, judgedFolder, staging.Trash, stillRemovable: () => door.Look(sentinel) is null);
        } // disposing the staging folder deletes what was moved aside

        _log.Info($"RepoLock: removed {alias} (sentinel, listing, manifest entry, folder).");
    }
}
