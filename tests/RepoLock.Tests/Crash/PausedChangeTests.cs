using System.Diagnostics;
using System.Globalization;
using RepoLock.Core;
using RepoLock.Core.Platform;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// Real processes paused at the exact step between a check and the change it guards (a checkpoint, and SIGSTOP so the lease stops being
/// renewed), taken over, and resumed: the change acts only on the instance judged, so the taker's work is never destroyed.
/// </summary>
public sealed class PausedChangeTests(ITestOutputHelper output) : IDisposable
{
    private const string Package = "@fixture/language-paused";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(120);

    private readonly TempDir _dir = new("paused-change");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start();

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    [SkippableFact]
    public async Task A_holder_paused_before_moving_a_half_install_aside_and_taken_over_leaves_the_takers_complete_adaptor_in_place()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs SIGSTOP");
        var spec = AdaptorSpecifier.Parse($"{Package}@1.0.0");
        _registry.AddPackage(spec.Name, spec.VersionText);
        var layout = new RepoLayout(_dir.Combine("repo"));
        Directory.CreateDirectory(layout.AdaptorDir(spec.Alias)); // a half-install: a folder without package.json, no sentinel
        File.WriteAllText(Path.Combine(layout.AdaptorDir(spec.Alias), "partial.js"), "");
        var checkpoints = new CheckpointDir(_dir.Combine("checkpoints"));
        checkpoints.Block("move-aside-checked");

        using var paused = StartInstall(layout, checkpoints.Environment, spec);
        await checkpoints.WaitReachedAsync("move-aside-checked", Step, () => paused.Output); // its last lost-lock check passed
        Signal("STOP", paused.Id); // no lease renewals from here: a VM freeze, a GC pause
        using var taker = StartInstall(layout, null, spec);
        Assert.True(await taker.WaitForExitAsync(Step) == 0, taker.Output);
        var sentinel = File.ReadAllText(layout.SentinelPath(spec.Alias));
        var folder = layout.Door.Look(layout.AdaptorDir(spec.Alias))!.Value;

        Signal("CONT", paused.Id);
        checkpoints.Unblock("move-aside-checked");
        await paused.WaitForExitAsync(Step);

        output.WriteLine($"taker: {Outcome(taker)}; resumed holder: {Outcome(paused)}");
        Assert.Equal(nameof(InstallOutcome.Installed), Outcome(taker));
        Assert.Equal(folder.Ino, layout.Door.Look(layout.AdaptorDir(spec.Alias))!.Value.Ino); // the taker's folder, not moved or replaced
        Assert.Equal(sentinel, File.ReadAllText(layout.SentinelPath(spec.Alias)));
        Assert.Contains(spec.Alias, RepoState.AssertConsistent(layout));
        Assert.NotEqual(nameof(InstallOutcome.Installed), Outcome(paused));
    }

    [SkippableFact]
    public async Task A_holder_paused_before_its_sentinel_and_taken_over_writes_nothing_more_and_the_taker_adopts_its_complete_folder()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs SIGSTOP");
        var spec = AdaptorSpecifier.Parse($"{Package}@3.0.0");
        _registry.AddPackage(spec.Name, spec.VersionText);
        var layout = new RepoLayout(_dir.Combine("repo"));
        var checkpoints = new CheckpointDir(_dir.Combine("checkpoints"));
        checkpoints.Block(CheckpointDir.AfterManifest);

        using var paused = StartInstall(layout, checkpoints.Environment, spec);
        await checkpoints.WaitReachedAsync(CheckpointDir.AfterManifest, Step, () => paused.Output); // folder in place and listed, no sentinel yet
        Signal("STOP", paused.Id);
        using var taker = StartInstall(layout, null, spec);
        Assert.True(await taker.WaitForExitAsync(Step) == 0, taker.Output);
        var sentinel = File.ReadAllText(layout.SentinelPath(spec.Alias));

        Signal("CONT", paused.Id);
        checkpoints.Unblock(CheckpointDir.AfterManifest);
        await paused.WaitForExitAsync(Step);

        output.WriteLine($"taker: {Outcome(taker)}; resumed holder: {Outcome(paused)}");
        Assert.Equal(nameof(InstallOutcome.Adopted), Outcome(taker)); // the paused holder's folder was complete and listed: kept in place
        Assert.Equal(nameof(InstallOutcome.InstalledByPeer), Outcome(paused));
        Assert.Contains($"warning {ErrorCodes.LockLost}", paused.Output); // its lost-lock check before the sentinel stopped it
        Assert.Equal(sentinel, File.ReadAllText(layout.SentinelPath(spec.Alias)));
        Assert.False(File.Exists(layout.DigestListingPath(spec.Alias)), "the holder that lost its lock wrote its digest listing");
        Assert.Contains(spec.Alias, RepoState.AssertConsistent(layout));
    }

    [SkippableFact]
    public async Task A_holder_paused_in_its_release_and_broken_meanwhile_does_not_remove_the_next_holders_lock()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs a real process paused at its release");
        var spec = AdaptorSpecifier.Parse($"{Package}@2.0.0");
        _registry.AddPackage(spec.Name, spec.VersionText);
        var layout = new RepoLayout(_dir.Combine("repo"));
        var checkpoints = new CheckpointDir(_dir.Combine("checkpoints"));
        var target = layout.LockTarget(spec.Alias);
        var lockDir = target + ".lock";
        var released = $"release-checked.{Path.GetFileName(lockDir)}"; // the alias lock's release, not the manifest lock's
        checkpoints.Block(released);

        using var releasing = StartInstall(layout, checkpoints.Environment, spec);
        await checkpoints.WaitReachedAsync(released, Step, () => releasing.Output); // installed; checked "still ours"; no more heartbeats

        // A Node worker judges the unrefreshed lock stale (its stale age: 2 s) and takes it.
        using var holder = await TakeWithNodeAsync(target);
        var taken = layout.Door.Look(lockDir)!.Value;

        checkpoints.Unblock(released);
        Assert.True(await releasing.WaitForExitAsync(Step) == 0, releasing.Output);

        var now = layout.Door.Look(lockDir);
        Assert.True(now is { } n && n.SameObject(taken), $"the released holder removed or replaced the next holder's lock ({now}):\n{releasing.Output}\nNode: {holder.Output}");
        Assert.False(NativeFs.TryCreateDirectory(lockDir)); // a third process cannot take it
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(lockDir)!, "*.stale-*"));
        await holder.ReleaseAsync();
    }

    /// <summary>proper-lockfile with a 2 s stale age, one attempt per process (ELOCKED while the lock looks fresh), until it holds the lock.</summary>
    private static async Task<ChildProcess> TakeWithNodeAsync(string target)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var attempt = NodeLocks.Hold(target, TimeSpan.FromSeconds(2));
            bool Locked() => attempt.Stdout.Split('\n').Any(l => l.Trim() == "LOCKED"); // not "ELOCKED"
            await Poll.UntilAsync(() => Locked() || attempt.HasExited, Step, "a Node lock attempt ended", () => attempt.Output);
            if (Locked())
            {
                return attempt;
            }

            Assert.True(clock.Elapsed < Step, $"a Node worker could not take the lock: {attempt.Output}");
            Assert.Contains("ELOCKED", (await attempt.WaitAsync(Step)).Output); // held and fresh: try again
            attempt.Dispose();
        }
    }

    private ChildProcess StartInstall(RepoLayout layout, IDictionary<string, string?>? env, AdaptorSpecifier spec) =>
        HostInstalls.Start(layout.Root, _registry.Url, _dir.Combine("npm-cache"), spec.ToString(), env);

    private static string Outcome(ChildProcess install) => HostInstalls.Outcome(install);

    private static void Signal(string signal, int pid) => HostInstalls.Signal(signal, pid);
}
