using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Install;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Interop;

/// <summary>
/// NFS-like lookup caching, on the sshfs pair: the waiter's mount caches "absent" lookups for long (as NFS trusts a cached "absent"
/// sentinel until its folder's attributes expire) or keeps positive entries for long. A peer on the other mount installs while the waiter
/// waits: the waiter must decide from fresh data, so it neither reinstalls nor touches the peer's adaptor, and does not idle long after
/// the peer finished. Skipped (with the reason) without root, /dev/fuse, sshfs or sshd.
/// </summary>
[Collection("sshfs mounts")] // one sshfs test bed at a time: they time lock takeovers, and parallel sshd/FUSE traffic skews them
public sealed class LookupCacheTests(ITestOutputHelper output)
{
    private const string Beta = "@fixture/language-beta@1.2.0";
    private const string BetaAlias = "@fixture/language-beta_1.2.0";

    [SkippableTheory]
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1")]
    [InlineData("entry_timeout=30,negative_timeout=30,attr_timeout=30")]
    public async Task A_waiter_on_a_caching_mount_takes_the_peers_install_without_reinstalling(string cacheOptions)
    {
        using var mounts = new SshfsPair(cacheOptions);
        Prerequisite.SkipUnlessAvailable(mounts.SkipReason);
        using var registry = FakeNpmRegistry.Start().AddPackage("@fixture/language-beta", "1.2.0");
        registry.TarballLatency = TimeSpan.FromSeconds(5); // the peer's npm is slow: the waiter looks while it runs
        using var cache = new TempDir("npmcache");
        var settings = new RepoLockSettings { Registry = registry.Url, NpmCacheDir = cache.Path, CreateRepoDir = true, PollInterval = TimeSpan.FromMilliseconds(200) };

        // A long-lived repo: the scope folders exist, so only the adaptor's own entries are new.
        var shared = new RepoLayout(Path.Combine(mounts.Shared, "repo"));
        Directory.CreateDirectory(Path.GetDirectoryName(shared.SentinelPath(BetaAlias))!);
        Directory.CreateDirectory(Path.GetDirectoryName(shared.AdaptorDir(BetaAlias))!);
        var peerSide = new RepoLayout(Path.Combine(mounts.Mount1, "repo"));
        var waiterSide = new RepoLayout(Path.Combine(mounts.Mount2, "repo"));
        var lockDir = shared.LockTarget(BetaAlias) + ".lock";

        var peer = Task.Run(() => new AdaptorRepo(peerSide, settings, new CollectingLog()).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default));
        await Poll.UntilAsync(() => Directory.Exists(lockDir), TimeSpan.FromSeconds(60), "the peer took the lock");
        Assert.False(File.Exists(waiterSide.SentinelPath(BetaAlias))); // the waiter's mount now caches "absent" for the sentinel
        var runner = new CountingRunner();
        var waiterLog = new CollectingLog();
        var waiter = new AdaptorRepo(waiterSide, settings, waiterLog, runner).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);

        var peerResult = await peer.WaitAsync(TimeSpan.FromSeconds(180));
        var peerDone = Stopwatch.StartNew();
        var waiterResult = await waiter.WaitAsync(TimeSpan.FromSeconds(180));
        var lag = peerDone.Elapsed;

        Assert.Equal(InstallOutcome.Installed, Assert.Single(peerResult.Adaptors).Outcome);
        Assert.True(waiterResult.Succeeded, string.Join("\n", waiterResult.Failures.Select(f => f.Message + f.InnerException)) + "\n" + waiterLog.Text);
        Assert.Equal(InstallOutcome.InstalledByPeer, Assert.Single(waiterResult.Adaptors).Outcome);
        Assert.Equal(0, runner.Count); // no second npm install, so the peer's adaptor was never replaced
        Assert.True(shared.IsInstalled(BetaAlias));
        Assert.True(lag < TimeSpan.FromSeconds(30), $"the waiter idled {lag.TotalSeconds:0.0} s after the peer finished");
        output.WriteLine($"sshfs -o {cacheOptions}: the waiter finished {lag.TotalSeconds:0.00} s after the peer, without reinstalling");
    }
}
