using RepoLock.Core.Diagnostics;
using RepoLock.Core.Install;
using RepoLock.Core.Locking;
using RepoLock.Core.Npm;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core;

/// <summary>
/// Ensures a build's adaptors are installed in one repo. Cache hits are two file checks and nothing else. Misses install concurrently
/// (bounded by <see cref="RepoLockSettings.MaxParallel"/>); a miss whose alias lock a peer holds gives up its slot and polls, so a build
/// never waits on a peer while other adaptors it needs are free to install.
/// </summary>
public sealed class AdaptorRepo
{
    private readonly RepoLayout _layout;
    private readonly RepoLockSettings _settings;
    private readonly LockService _locks;
    private readonly NpmClient _npm;
    private readonly AdaptorInstaller _installer;
    private readonly IRepoLockLog _log;
    private readonly TimeProvider _time;

    /// <summary>How long a lock holder waits for a listing to show a sentinel the file server already has (NFS's default acdirmax).</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);

    /// <summary>A repo to fill. Checks the folder and the settings; writes nothing.</summary>
    /// <param name="repo">The OpenFn repo folder (<c>AdaptorRepoDir</c>).</param>
    /// <param name="settings">Timeouts, stale age, npm options; validated here.</param>
    /// <param name="log">Where progress and warnings go; null drops them.</param>
    /// <exception cref="RepoLockException">RL1003 for a bad folder, RL1006 for a bad setting.</exception>
    public AdaptorRepo(string repo, RepoLockSettings settings, IRepoLockLog? log = null)
        : this(new RepoLayout(repo), settings, log)
    {
    }

    internal AdaptorRepo(RepoLayout layout, RepoLockSettings settings, IRepoLockLog? log = null, IProcessRunner? runner = null, MachineIdentity? self = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _layout = layout;
        if (!settings.CreateRepoDir && !Directory.Exists(layout.Root))
        {
            throw Errors.MissingRepo(layout.Root);
        }

        _settings = settings with { Checkpoint = settings.Checkpoint ?? TestOnlyCheckpoints.FromEnvironment() };
        _log = log ?? NullLog.Instance;
        _time = settings.Time;
        var me = self ?? MachineIdentity.Current;
        _locks = new LockService(settings.Lock with { Checkpoint = TestOnlyCheckpoints.ForLocks() }, me, _time, _log);
        _npm = new NpmClient(settings.Npm, runner);
        _installer = new AdaptorInstaller(layout, _settings, _locks, _npm, me, _time, _log);
    }

    /// <summary>The repo folder, as a full path.</summary>
    public string Root => _layout.Root;

    /// <summary>Resolves dist-tags to exact versions through the registry (before anything is written), in parallel.</summary>
    internal async Task<IReadOnlyList<AdaptorSpecifier>> ResolveAsync(IReadOnlyList<AdaptorSpecifier> adaptors, CancellationToken cancellationToken)
    {
        var resolved = await Task.WhenAll(adaptors.Select(async spec =>
        {
            if (spec.IsExact)
            {
                return spec;
            }

            string version;
            try
            {
                version = await _npm.ResolveTagAsync(spec.Name, spec.Tag!, Path.GetTempPath(), cancellationToken).ConfigureAwait(false);
            }
            catch (RepoLockException e)
            {
                throw e.About(spec); // so a front end can point at where the adaptor was named
            }

            var exact = spec.WithVersion(version, spec.ToString());
            _log.Info($"RepoLock: {spec} resolved to {exact.VersionText}.");
            return exact;
        })).ConfigureAwait(false);
        return resolved;
    }

    /// <summary>
    /// Makes sure every adaptor is installed: dist-tags are resolved first (a failure there writes nothing), cache hits cost two file
    /// checks, misses are installed under their alias locks. Per-adaptor failures are returned, not thrown.
    /// </summary>
    /// <exception cref="RepoLockException">RL1004 when a dist-tag cannot be resolved; nothing was written.</exception>
    public async Task<EnsureResult> EnsureInstalledAsync(IReadOnlyList<AdaptorSpecifier> adaptors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(adaptors);
        var exact = adaptors.All(a => a.IsExact) ? adaptors : await ResolveAsync(adaptors, cancellationToken).ConfigureAwait(false);
        var unique = exact.GroupBy(a => a.Alias).Select(g => g.First()).ToList();
        var results = new List<AdaptorResult>();
        var missing = new List<AdaptorSpecifier>();
        var hits = new List<AdaptorSpecifier>();
        foreach (var spec in unique)
        {
            if (_layout.IsInstalled(spec.Alias))
            {
                hits.Add(spec);
                results.Add(Result(spec, InstallOutcome.AlreadyInstalled, TimeSpan.Zero));
            }
            else
            {
                missing.Add(spec);
            }
        }

        var failures = new List<RepoLockException>();
        if (hits.Count > 0)
        {
            await RepairManifestAsync(hits, cancellationToken).ConfigureAwait(false);
        }

        if (missing.Count > 0)
        {
            if (Directory.Exists(_layout.Root))
            {
                DebrisSweeper.Sweep(_layout, _settings.StaleAge, _log); // what killed processes left, judged by the server's clock
            }

            using var slots = new SemaphoreSlim(Math.Max(1, _settings.MaxParallel));
            var work = missing.Select(spec => (spec, Task: EnsureOneAsync(spec, slots, cancellationToken))).ToList();
            foreach (var (spec, task) in work)
            {
                try
                {
                    results.Add(await task.ConfigureAwait(false));
                }
                catch (RepoLockException e)
                {
                    failures.Add(e.About(spec));
                }
            }
        }

        _log.Info(Summary(results, failures.Count));
        return new EnsureResult(results, failures);
    }

    private async Task<AdaptorResult> EnsureOneAsync(AdaptorSpecifier spec, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var subject = spec.ToString();
        var started = _time.GetTimestamp();
        var progress = new InstallProgress();
        try
        {
            _layout.RealFile(_layout.LockTarget(spec.Alias), create: true); // .locks and its scope folder are real folders; the target no link
            using var waiter = _locks.StartWaiting(_layout.LockTarget(spec.Alias), subject);
            while (true)
            {
                // "Did the peer finish?": at the start, and then only when the lock was released or changed hands (a listing per poll
                // would be most of what a waiting build asks of the file server).
                if (waiter.ShouldCheckPeer() && _layout.IsInstalledNow(spec.Alias))
                {
                    return Result(spec, InstallOutcome.InstalledByPeer, _time.GetElapsedTime(started));
                }

                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    using var held = waiter.TryAcquire($"install {subject}");
                    if (held is not null)
                    {
                        if (await _layout.IsInstalledSettledAsync(spec.Alias, _settings.PollInterval, SettleLimit, _time, cancellationToken).ConfigureAwait(false))
                        {
                            return Result(spec, InstallOutcome.InstalledByPeer, _time.GetElapsedTime(started));
                        }

                        var installedStarted = _time.GetTimestamp();
                        try
                        {
                            var outcome = await _installer.InstallAsync(spec, held, cancellationToken, progress).ConfigureAwait(false);
                            return Result(spec, outcome, _time.GetElapsedTime(outcome == InstallOutcome.InstalledByPeer ? started : installedStarted));
                        }
                        catch (RepoLockException e) when (e.Code == ErrorCodes.LockLost && _layout.IsInstalledFresh(spec.Alias))
                        {
                            // Our lock was taken over (this build was paused past its lease, or judged stale), we changed nothing since,
                            // and the taker finished: its install stands, and we say so.
                            _log.Info($"RepoLock: {subject}: this build lost its lock ({held.LostReason}); the process that took it over installed the adaptor.");
                            return Result(spec, InstallOutcome.InstalledByPeer, _time.GetElapsedTime(started));
                        }
                    }
                }
                finally
                {
                    slots.Release();
                }

                await waiter.PauseAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw Errors.WasCancelled(subject, progress.Left);
        }
        catch (Exception e) when (NativeFs.IsReadOnly(e))
        {
            throw Errors.ReadOnly(subject, _layout.Root, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Errors.Io(subject, _layout.Root, e);
        }
    }

    /// <summary>
    /// Self-repair for cache hits: one read of package.json per build; aliases it does not list (a root npm install, a Node worker or a
    /// hand edit dropped them) are added under the manifest lock. Nothing missing writes nothing. A manifest that cannot be read is a
    /// warning here: the adaptors are installed, and a miss reports it as an error.
    /// </summary>
    private async Task RepairManifestAsync(List<AdaptorSpecifier> hits, CancellationToken cancellationToken)
    {
        try
        {
            var unlisted = RepoManifest.Unlisted(_layout, hits);
            if (unlisted.Count > 0 && await RepoManifest.AddAsync(_layout, _locks, unlisted, null, cancellationToken).ConfigureAwait(false))
            {
                _log.Info($"RepoLock: listed {string.Join(", ", unlisted.Select(s => s.Alias))} in {_layout.ManifestPath} again (the entries were missing).");
            }
        }
        catch (RepoLockException e)
        {
            _log.Warning(e.Code, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning(ErrorCodes.IoFailure, $"RepoLock: could not check {_layout.ManifestPath} for missing entries: {e.Message}");
        }
    }

    private AdaptorResult Result(AdaptorSpecifier spec, InstallOutcome outcome, TimeSpan duration) =>
        new(spec, outcome, duration, _layout.AdaptorDir(spec.Alias), _layout.SentinelPath(spec.Alias));

    internal string Summary(IReadOnlyList<AdaptorResult> results, int failed)
    {
        string Part(InstallOutcome o, string label, bool timed)
        {
            var matching = results.Where(r => r.Outcome == o).ToList();
            var time = timed && matching.Count > 0 ? $" ({matching.Max(r => r.Duration).TotalSeconds:0.0} s{(o == InstallOutcome.InstalledByPeer ? " waited" : "")})" : "";
            return $"{matching.Count} {label}{time}";
        }

        var failedPart = (results.Any(r => r.Outcome == InstallOutcome.Adopted) ? $", {Part(InstallOutcome.Adopted, "adopted (complete without a sentinel)", false)}" : "")
                         + (failed > 0 ? $", {failed} failed" : "");
        return $"RepoLock: {results.Count + failed} adaptor(s) in {_layout.Root}: {Part(InstallOutcome.AlreadyInstalled, "already installed", false)}, " +
               $"{Part(InstallOutcome.Installed, "installed", true)}, {Part(InstallOutcome.InstalledByPeer, "installed by a peer", true)}{failedPart}.";
    }
}
