using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>
/// Real installs stopped by what the README promises to survive: a lock taken away mid-install (RL2002), a read-only or full disk
/// (RL3005; RL3007 for a read-only repo). Each must leave the repo as it was: no adaptor folder, no sentinel, the manifest untouched, no staging, no lock.
/// </summary>
public sealed class InstallFailureTests : IClassFixture<InstallFixture>, IDisposable
{
    private static readonly AdaptorSpecifier Beta = AdaptorSpecifier.Parse("@fixture/language-beta@1.2.0");
    private const string Manifest = "{ \"name\": \"openfn-repo\", \"private\": true, \"dependencies\": {} }\n";

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("failure");
    private readonly CollectingLog _log = new();

    public InstallFailureTests(InstallFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_lock_taken_away_after_npm_stops_the_install_with_RL2002_before_it_changes_the_repo()
    {
        var layout = NewRepo(_dir.Combine("repo"));
        var lockDir = layout.LockTarget(Beta.Alias) + ".lock";
        var settings = _fx.Settings(checkpoint: (point, _) =>
        {
            if (point == CheckpointDir.AfterNpm)
            {
                Directory.Delete(lockDir); // another process judged it stale, broke it, and holds a lock of its own now
                Directory.CreateDirectory(lockDir);
                Directory.SetLastWriteTimeUtc(lockDir, DateTime.UtcNow.AddSeconds(30));
            }
        });

        var result = await new AdaptorRepo(layout, settings, _log).EnsureInstalledAsync([Beta], default);

        Assert.Equal(ErrorCodes.LockLost, Assert.Single(result.Failures).Code);
        AssertUnchanged(layout);
        Assert.True(Directory.Exists(lockDir), "the new holder's lock was removed");
    }

    [SkippableFact]
    public async Task A_read_only_repo_fails_with_RL3007_and_nothing_is_written()
    {
        using var fs = new SmallTmpfs(kilobytes: 512);
        Prerequisite.SkipUnlessAvailable(fs.WhyNot);
        var layout = NewRepo(Path.Combine(fs.Path, "repo"));
        fs.MakeReadOnly();

        var result = await new AdaptorRepo(layout, _fx.Settings(), _log).EnsureInstalledAsync([Beta], default);

        Assert.Equal(ErrorCodes.RepoReadOnly, Assert.Single(result.Failures).Code);
        Assert.Equal([layout.ManifestPath], Directory.GetFileSystemEntries(layout.Root));
        AssertUnchanged(layout);
    }

    [SkippableFact]
    public async Task A_full_disk_fails_with_RL3005_and_the_repo_stays_as_it_was()
    {
        using var fs = new SmallTmpfs(kilobytes: 512);
        Prerequisite.SkipUnlessAvailable(fs.WhyNot);
        var layout = NewRepo(Path.Combine(fs.Path, "repo"));
        fs.Fill();

        var result = await new AdaptorRepo(layout, _fx.Settings(), _log).EnsureInstalledAsync([Beta], default);

        Assert.Equal(ErrorCodes.IoFailure, Assert.Single(result.Failures).Code);
        AssertUnchanged(layout);
    }

    private static RepoLayout NewRepo(string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "package.json"), Manifest);
        return new RepoLayout(root);
    }

    private static void AssertUnchanged(RepoLayout layout)
    {
        Assert.False(Directory.Exists(layout.AdaptorDir(Beta.Alias)), "an adaptor folder was left");
        Assert.False(File.Exists(layout.SentinelPath(Beta.Alias)), "a sentinel was written");
        Assert.Equal(Manifest, File.ReadAllText(layout.ManifestPath));
        Assert.Empty(RepoState.StagingFolders(layout));
        Assert.Empty(RepoState.LockDebris(layout));
    }
}
