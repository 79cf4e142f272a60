using System.Diagnostics;
using System.Globalization;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// An installer stopped (SIGSTOP) while it holds the adaptor's lock, longer than its lease's grace: a peer takes the lock over and
/// installs; when the stopped installer runs again it finds its lock lost before it changes anything, and reports the honest outcome.
/// </summary>
public sealed class PausedInstallerTests : IDisposable
{
    private const string Package = "@openfn/language-paused";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new("paused");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start();

    public PausedInstallerTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    [SkippableFact]
    public async Task An_installer_stopped_past_its_grace_loses_its_lock_and_reports_the_peers_install()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs SIGSTOP");
        var spec = AdaptorSpecifier.Parse($"{Package}@1.0.0");
        _registry.AddPackage(spec.Name, spec.VersionText);
        var layout = new RepoLayout(_dir.Combine("repo"));
        var checkpoints = new CheckpointDir(_dir.Combine("checkpoints"));
        checkpoints.Block(CheckpointDir.AfterNpm);

        using var paused = StartInstall(layout, checkpoints.Environment, spec);
        await checkpoints.WaitReachedAsync(CheckpointDir.AfterNpm, Step, () => paused.Output); // npm done, nothing moved yet
        Signal("STOP", paused.Id);
        var stoppedAt = DateTime.UtcNow;
        using var peer = StartInstall(layout, null, spec);
        Assert.True(await peer.WaitForExitAsync(Step) == 0, peer.Output);
        var peerDone = DateTime.UtcNow - stoppedAt;

        Signal("CONT", paused.Id);
        checkpoints.Unblock(CheckpointDir.AfterNpm);
        Assert.True(await paused.WaitForExitAsync(Step) == 0, paused.Output);

        _output.WriteLine($"installer stopped after npm: the peer took over and installed {peerDone.TotalSeconds:0.0} s after the stop; the stopped one, resumed, reported {Outcome(paused)}");
        Assert.Contains("has not renewed its lease", peer.Output);
        Assert.Equal(nameof(InstallOutcome.Installed), Outcome(peer));
        Assert.Equal(nameof(InstallOutcome.InstalledByPeer), Outcome(paused));
        Assert.Contains($"warning {ErrorCodes.LockLost}", paused.Output); // it noticed, and said so, before changing anything
        Assert.Contains(spec.Alias, RepoState.AssertConsistent(layout));
        Assert.Empty(RepoState.StagingFolders(layout));
    }

    private ChildProcess StartInstall(RepoLayout layout, IDictionary<string, string?>? env, AdaptorSpecifier spec) =>
        HostInstalls.Start(layout.Root, _registry.Url, _dir.Combine("npm-cache"), spec.ToString(), env);

    private static string Outcome(ChildProcess install) => HostInstalls.Outcome(install);

    private static void Signal(string signal, int pid) => HostInstalls.Signal(signal, pid);
}
