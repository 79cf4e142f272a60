using RepoLock.Core;
using RepoLock.Core.Install;
using RepoLock.Core.Locking;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Crash;

/// <summary>
/// A staging folder belongs to the alias lock it was made under: while that lock's holder is alive, nobody removes it, however old its
/// mtime (npm working inside it for long does not change it); once the lock is gone or another acquisition's, it is debris.
/// </summary>
public sealed class StagingOwnershipTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(120);
    private readonly TempDir _dir = new("staging-owner");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start();

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    [SkippableFact]
    public async Task The_staging_folder_of_a_live_installer_on_another_machine_is_not_debris_however_old_its_mtime()
    {
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        var spec = AdaptorSpecifier.Parse("@fixture/language-slow@1.0.0");
        _registry.AddPackage(spec.Name, spec.VersionText);
        _registry.TarballLatency = TimeSpan.FromSeconds(15); // npm works in its staging folder for a while
        var layout = new RepoLayout(_dir.Combine("repo"));

        using var installer = ChildProcess.Start(Unshare.Prefix[0], [.. Unshare.Prefix[1..], "dotnet", TestPaths.TestHostDll, "install", layout.Root,
            _registry.Url, _dir.Combine("npm-cache"), "60", "4", spec.ToString()]);
        await Poll.UntilAsync(() => RepoState.StagingFolders(layout).Count == 1 && _registry.TarballRequests(spec.Name) > 0, Step,
            "the installer in another PID namespace is downloading into its staging folder", () => installer.Output);
        var staging = Assert.Single(RepoState.StagingFolders(layout));
        Directory.SetLastWriteTimeUtc(staging, DateTime.UtcNow.AddHours(-2)); // older than any stale age

        var settings = new RepoLockSettings { StaleAge = TimeSpan.FromSeconds(60) };
        var inspector = new RepoInspector(layout.Root, settings);
        var debris = inspector.Inspect().Debris;
        var left = await new RepoMaintenance(layout.Root, settings).FixAsync(inspector.Verify());

        Assert.DoesNotContain(debris, d => d.Path == staging);
        Assert.True(Directory.Exists(staging), "verify --fix removed a live installer's staging folder");
        Assert.Empty(left);
        Assert.Equal(0, await installer.WaitForExitAsync(Step));
        Assert.Contains("\"Installed\"", installer.Stdout);
        Assert.Contains(spec.Alias, RepoState.AssertConsistent(layout));
        output.WriteLine($"staging folder of a live holder in another PID namespace, mtime 2 h old: kept; the install completed");
    }

    [Fact]
    public void A_staging_folder_whose_lock_is_gone_or_taken_by_another_acquisition_is_debris_and_one_under_a_live_lock_is_not()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var locks = new LockService(new LockSettings { StaleAge = TimeSpan.FromSeconds(60) });
        const string Alias = "@fixture/language-owned_1.0.0";
        layout.RealFile(layout.LockTarget(Alias), create: true);
        using var held = locks.StartWaiting(layout.LockTarget(Alias), Alias).TryAcquire("test")!;
        using var mine = StagingFolder.Create(layout, Alias, locks.Self, held.OwnNonce);
        using var orphan = StagingFolder.Create(layout, Alias, locks.Self with { ProcessId = 1, ProcessStart = "gone" }, Guid.NewGuid().ToString("N"));

        Assert.Null(StagingFolder.WhyAbandoned(layout, mine.Path, locks)); // its lock is held by a live process
        Assert.Contains("was released", StagingFolder.WhyAbandoned(layout, orphan.Path, locks)); // the lock is another acquisition's
        held.Dispose();
        Assert.Contains("is gone", StagingFolder.WhyAbandoned(layout, orphan.Path, locks));
    }
}
