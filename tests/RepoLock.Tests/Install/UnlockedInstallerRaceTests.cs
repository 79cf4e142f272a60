using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>
/// Two installers of one alias without the lock (as if it had been wrongly judged stale), each parked at a named point so that a
/// chosen branch is reached on purpose: correctness must then rest on the installer's own checks, never on the scheduler.
/// </summary>
public sealed class UnlockedInstallerRaceTests : IClassFixture<InstallFixture>, IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(90);
    private static readonly AdaptorSpecifier Spec = AdaptorSpecifier.Parse("@fixture/language-alpha@1.0.0");

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("unlocked");
    private readonly CollectingLog _log = new();
    private readonly RepoLayout _layout;

    public UnlockedInstallerRaceTests(InstallFixture fx)
    {
        _fx = fx;
        _layout = new RepoLayout(_dir.Combine("repo"));
    }

    public void Dispose() => _dir.Dispose();

    private string Alias => Spec.Alias;

    private string PeerMarker => Path.Combine(_layout.AdaptorDir(Alias), "placed-by-the-first-installer");

    [Fact]
    public async Task An_installer_that_checked_before_a_peer_finished_reports_the_peers_install_and_leaves_its_folder_and_sentinel_alone()
    {
        using var late = new Park(CheckpointDir.BeforeMoveAside); // has checked "is it installed?" (no) and is about to clear the way
        var lateRun = Task.Run(() => Installer(late.Callback).InstallAsync(Spec, null, default));
        await late.ReachedAsync(lateRun);

        Assert.Equal(InstallOutcome.Installed, await Installer(null).InstallAsync(Spec, null, default));
        File.WriteAllText(PeerMarker, "");
        var sentinel = File.ReadAllText(_layout.SentinelPath(Alias));
        late.Release();

        Assert.Equal(InstallOutcome.InstalledByPeer, await lateRun.WaitAsync(Step));
        Assert.True(File.Exists(PeerMarker), "the peer's complete folder was moved aside");
        Assert.Equal(sentinel, File.ReadAllText(_layout.SentinelPath(Alias)));
        Assert.Equal([Alias], RepoState.AssertConsistent(_layout));
        AssertNothingLeftBehind();
    }

    [Fact]
    public async Task An_installer_whose_rename_meets_a_peers_folder_keeps_the_peers_folder_and_the_repo_stays_consistent()
    {
        using var late = new Park(CheckpointDir.BeforeMove); // the way is clear: nothing at the target yet
        using var early = new Park(CheckpointDir.AfterMove); // its folder in place, no sentinel yet
        var lateRun = Task.Run(() => Installer(late.Callback).InstallAsync(Spec, null, default));
        await late.ReachedAsync(lateRun);
        var earlyRun = Task.Run(() => Installer(early.Callback).InstallAsync(Spec, null, default));
        await early.ReachedAsync(earlyRun);
        File.WriteAllText(PeerMarker, "");

        late.Release();
        var lateOutcome = await lateRun.WaitAsync(Step);
        Assert.Contains(_log.Lines, l => l.Contains("appeared while installing", StringComparison.Ordinal));
        Assert.True(File.Exists(PeerMarker), "the peer's folder was replaced");
        early.Release();
        var earlyOutcome = await earlyRun.WaitAsync(Step);

        // The sentinel is created, never replaced: whichever writes it first completes the install, the other reports the peer's.
        Assert.Equal([InstallOutcome.Installed, InstallOutcome.InstalledByPeer], new[] { lateOutcome, earlyOutcome }.Order());

        Assert.True(File.Exists(PeerMarker), "the peer's folder was replaced");
        Assert.Equal([Alias], RepoState.AssertConsistent(_layout));
        Assert.Equal("1.0.0", Sentinel.TryRead(_layout.SentinelPath(Alias))!.Version);
        AssertNothingLeftBehind();
    }

    private AdaptorInstaller Installer(Action<string, AdaptorSpecifier>? checkpoint)
    {
        var settings = _fx.Settings(checkpoint: checkpoint);
        return new AdaptorInstaller(_layout, settings, new LockService(settings.Lock), new NpmClient(settings.Npm), MachineIdentity.Current, TimeProvider.System, _log);
    }

    private void AssertNothingLeftBehind()
    {
        Assert.Empty(RepoState.StagingFolders(_layout));
        Assert.Empty(Directory.Exists(_layout.LocksDir) ? Directory.GetDirectories(_layout.LocksDir, "*.lock", SearchOption.AllDirectories) : []);
    }

    /// <summary>Parks the installer that reaches <c>point</c> until <see cref="Release"/>.</summary>
    private sealed class Park(string point) : IDisposable
    {
        private readonly ManualResetEventSlim _reached = new();
        private readonly ManualResetEventSlim _released = new();

        public void Callback(string reachedPoint, AdaptorSpecifier _)
        {
            if (reachedPoint == point)
            {
                _reached.Set();
                _released.Wait(Step);
            }
        }

        public async Task ReachedAsync(Task run)
        {
            await Poll.UntilAsync(() => _reached.IsSet || run.IsCompleted, Step, $"an installer parked at {point}");
            Assert.True(_reached.IsSet, $"the installer ended before {point}: {run.Exception}");
        }

        public void Release() => _released.Set();

        public void Dispose()
        {
            _released.Set();
            _reached.Dispose();
            _released.Dispose();
        }
    }
}
