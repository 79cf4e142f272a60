using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Install;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Interop;

/// <summary>
/// A waiter whose mount caches "absent" lookups for 90 s (FUSE negative entries, as an NFS client trusts a cached "absent"), in the start
/// states where its own first look caches that absence: a repo whose adaptor folder a root npm install pruned (sentinel present, folder
/// gone), and a cold repo (nothing yet). A peer on the other mount installs meanwhile. The waiter must decide from listings of every folder
/// down to each entry, so it neither runs npm a second time nor touches the peer's install.
/// </summary>
[Collection("sshfs mounts")]
public sealed class CachedAbsenceTests(ITestOutputHelper output)
{
    private const string Beta = "@fixture/language-beta@1.2.0";
    private const string BetaAlias = "@fixture/language-beta_1.2.0";

    [SkippableTheory]
    [InlineData("pruned")]
    [InlineData("cold")]
    public async Task A_waiter_whose_mount_cached_the_adaptors_absence_takes_the_peers_install_without_running_npm(string start)
    {
        using var mounts = new SshfsPair("entry_timeout=1,negative_timeout=90,attr_timeout=1");
        Prerequisite.SkipUnlessAvailable(mounts.SkipReason);
        using var registry = FakeNpmRegistry.Start().AddPackage("@fixture/language-beta", "1.2.0");
        registry.TarballLatency = TimeSpan.FromSeconds(5); // the peer's npm is slow: the waiter looks while it runs
        using var cache = new TempDir("npmcache");
        var settings = new RepoLockSettings { Registry = registry.Url, NpmCacheDir = cache.Path, CreateRepoDir = true, PollInterval = TimeSpan.FromMilliseconds(200) };

        var shared = new RepoLayout(Path.Combine(mounts.Shared, "repo"));
        Directory.CreateDirectory(shared.Root);
        if (start == "pruned")
        {
            // Installed once, then a root npm install pruned the folder: the sentinel stays, the folder is gone.
            Directory.CreateDirectory(Path.GetDirectoryName(shared.AdaptorDir(BetaAlias))!);
            Sentinel.For(AdaptorSpecifier.Parse(Beta), null, RepoLock.Core.Platform.MachineIdentity.Current, DateTimeOffset.UtcNow).Write(shared.SentinelPath(BetaAlias));
        }

        var peerSide = new RepoLayout(Path.Combine(mounts.Mount1, "repo"));
        var waiterSide = new RepoLayout(Path.Combine(mounts.Mount2, "repo"));
        var lockDir = shared.LockTarget(BetaAlias) + ".lock";

        var peer = Task.Run(() => new AdaptorRepo(peerSide, settings, new CollectingLog()).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default));
        await Poll.UntilAsync(() => Directory.Exists(lockDir), TimeSpan.FromSeconds(60), "the peer took the lock");
        Assert.False(waiterSide.IsInstalled(BetaAlias)); // the waiter's own cache-hit lookups: its mount now caches the absence
        var runner = new CountingRunner();
        var waiterLog = new CollectingLog();
        var waiter = new AdaptorRepo(waiterSide, settings, waiterLog, runner).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);

        var peerResult = await peer.WaitAsync(TimeSpan.FromSeconds(180));
        var peerDone = Stopwatch.StartNew();
        var peerSentinel = File.ReadAllText(shared.SentinelPath(BetaAlias));
        var waiterResult = await waiter.WaitAsync(TimeSpan.FromSeconds(180));
        var lag = peerDone.Elapsed;

        Assert.Equal(InstallOutcome.Installed, Assert.Single(peerResult.Adaptors).Outcome);
        Assert.True(waiterResult.Succeeded, string.Join("\n", waiterResult.Failures.Select(f => f.Code + " " + f.Message)) + "\n" + waiterLog.Text);
        Assert.Equal(InstallOutcome.InstalledByPeer, Assert.Single(waiterResult.Adaptors).Outcome);
        Assert.Equal(0, runner.Count); // no second npm install
        Assert.Equal(peerSentinel, File.ReadAllText(shared.SentinelPath(BetaAlias))); // the peer's sentinel, untouched
        Assert.Equal([BetaAlias], RepoState.AssertConsistent(shared));
        output.WriteLine($"{start} repo, waiter's mount caching absence 90 s: finished {lag.TotalSeconds:0.00} s after the peer, without npm");
    }
}
