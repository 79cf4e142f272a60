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

    /// <summary>
    /// Start states: "long-lived" (the scope folders exist, only the adaptor's own entries are new); "pruned" (installed once, then a
    /// root npm install pruned the folder: the sentinel stays, and the waiter's own cache-hit lookup caches the folder's absence); "cold"
    /// (nothing yet: the waiter's lookups cache the absence of RepoLock's folders too). The last two used to install twice. With
    /// <c>dcache_dir_timeout=120</c> the waiter's listings lag too (as NFS's until <c>acdirmax</c>): it used to wait for them for a minute and
    /// then install again; it now asks the server past its caches whether the peer's files are there.
    /// </summary>
    [SkippableTheory]
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1", "long-lived")]
    [InlineData("entry_timeout=30,negative_timeout=30,attr_timeout=30", "long-lived")]
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1", "pruned")]
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1", "cold")]
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1,dcache_dir_timeout=120", "long-lived")] // listings lag for 2 minutes too
    [InlineData("entry_timeout=1,negative_timeout=90,attr_timeout=1,dcache_dir_timeout=120", "pruned")]
    public async Task A_waiter_on_a_caching_mount_takes_the_peers_install_without_reinstalling(string cacheOptions, string start)
    {
        using var mounts = new SshfsPair(cacheOptions);
        Prerequisite.SkipUnlessAvailable(mounts.SkipReason);
        using var registry = FakeNpmRegistry.Start().AddPackage("@fixture/language-beta", "1.2.0");
        registry.TarballLatency = TimeSpan.FromSeconds(5); // the peer's npm is slow: the waiter looks while it runs
        using var cache = new TempDir("npmcache");
        var settings = new RepoLockSettings { Registry = registry.Url, NpmCacheDir = cache.Path, CreateRepoDir = true, PollInterval = TimeSpan.FromMilliseconds(200) };

        var shared = new RepoLayout(Path.Combine(mounts.Shared, "repo"));
        Directory.CreateDirectory(shared.Root);
        if (start != "cold")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(shared.SentinelPath(BetaAlias))!);
            Directory.CreateDirectory(Path.GetDirectoryName(shared.AdaptorDir(BetaAlias))!);
        }

        if (start == "pruned")
        {
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
        Assert.True(waiterResult.Succeeded, string.Join("\n", waiterResult.Failures.Select(f => f.Message + f.InnerException)) + "\n" + waiterLog.Text);
        Assert.Equal(InstallOutcome.InstalledByPeer, Assert.Single(waiterResult.Adaptors).Outcome);
        Assert.Equal(0, runner.Count); // no second npm install, so the peer's adaptor was never replaced
        Assert.Equal(peerSentinel, File.ReadAllText(shared.SentinelPath(BetaAlias))); // the peer's sentinel, untouched
        Assert.Equal([BetaAlias], RepoState.AssertConsistent(shared));
        Assert.True(lag < TimeSpan.FromSeconds(30), $"the waiter idled {lag.TotalSeconds:0.0} s after the peer finished");
        output.WriteLine($"sshfs -o {cacheOptions}, {start} repo: the waiter finished {lag.TotalSeconds:0.00} s after the peer, without reinstalling");
    }
}
