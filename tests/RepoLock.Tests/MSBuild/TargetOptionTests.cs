using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Build.Execution;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// The error and option paths of the real targets and task, through MSBuild: a bad repo folder (RL1003), a bad property (RL1006),
/// <c>RepoLockOffline</c>, cancelling a running build, and the publish-time <c>BundleAdaptorRepo</c> target.
/// </summary>
[Collection(MSBuildCollection.Name)]
public sealed class TargetOptionTests : IDisposable
{
    private const string Alpha = "@fixture/language-alpha";
    private const string AlphaAlias = Alpha + "_1.0.0";
    private const string Hangs = "@fixture/language-hangs";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(90);

    private readonly TempDir _dir = new("msbuild-options");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start()
        .AddPackage("@fixture/dep-one", "1.2.0")
        .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^1.0.0" })
        .AddPackage(Hangs, "1.0.0");

    public TargetOptionTests() => _registry.Hang(Hangs);

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private AdaptorProject Project(string repo, string name = "project") =>
        new AdaptorProject(_dir.Combine(name), _registry.Url).Property("AdaptorRepoDir", repo).Property("RepoLockCreateRepoDir", "true");

    private Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = _dir.Combine("npm-cache"),
        ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
        ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
    };

    private BuildRun Build(AdaptorProject project, params string[] targets) =>
        InProcessBuild.Run(project.Write(), null, targets.Length == 0 ? null : targets, NpmEnvironment);

    [Fact]
    public void An_AdaptorRepoDir_that_is_a_file_fails_with_RL1003_and_asks_npm_nothing()
    {
        var file = _dir.Combine("not-a-folder");
        File.WriteAllText(file, "x");

        var run = Build(Project(file).Adaptor($"{Alpha}@1.0.0"));

        Assert.False(run.Succeeded);
        Assert.Equal(["RL1003"], run.Log.ErrorCodes);
        Assert.Equal("x", File.ReadAllText(file));
        Assert.Equal(0, _registry.PackumentRequests(Alpha));
    }

    [Theory]
    [InlineData("RepoLockStaleAge", "soon")]
    [InlineData("RepoLockMaxParallel", "0")]
    [InlineData("RepoLockOffline", "maybe")]
    public void An_invalid_RepoLock_property_fails_with_RL1006_before_anything_is_written(string property, string value)
    {
        var repo = _dir.Combine("repo");

        var run = Build(Project(repo).Property(property, value).Adaptor($"{Alpha}@1.0.0"));

        Assert.False(run.Succeeded);
        Assert.Equal(["RL1006"], run.Log.ErrorCodes);
        Assert.False(Directory.Exists(repo), "the repo folder was created");
        Assert.Equal(0, _registry.PackumentRequests(Alpha));
    }

    [Fact]
    public void RepoLockOffline_installs_from_npms_cache_only()
    {
        var empty = Build(Project(_dir.Combine("repo-offline-cold"), "cold").Property("RepoLockOffline", "true").Adaptor($"{Alpha}@1.0.0"));
        Assert.False(empty.Succeeded);
        Assert.Equal(["RL3001"], empty.Log.ErrorCodes); // nothing cached: npm may not ask the registry
        Assert.Equal(0, _registry.PackumentRequests(Alpha));

        Assert.True(Build(Project(_dir.Combine("repo-online"), "online").Adaptor($"{Alpha}@1.0.0")).Succeeded); // fills the cache
        var asked = _registry.PackumentRequests(Alpha) + _registry.TarballRequests(Alpha);
        var offline = Build(Project(_dir.Combine("repo-offline-warm"), "warm").Property("RepoLockOffline", "true").Adaptor($"{Alpha}@1.0.0"));

        Assert.True(offline.Succeeded, offline.ToString());
        Assert.Equal(asked, _registry.PackumentRequests(Alpha) + _registry.TarballRequests(Alpha));
        Assert.True(File.Exists(Path.Combine(_dir.Combine("repo-offline-warm"), ".sentinels", AlphaAlias + ".done")));
    }

    [Fact]
    public async Task Cancelling_a_running_build_stops_npm_and_leaves_nothing_behind()
    {
        var repo = _dir.Combine("repo");
        var project = Project(repo).Adaptor($"{Hangs}@1.0.0");
        var build = Task.Run(() => Build(project));
        await Poll.UntilAsync(() => _registry.PackumentRequests(Hangs) > 0 || build.IsCompleted, Step, "npm asking the registry");
        Assert.False(build.IsCompleted, "the build ended before npm asked the registry");

        BuildManager.DefaultBuildManager.CancelAllSubmissions();
        var run = await build.WaitAsync(Step);

        Assert.False(run.Succeeded);
        Assert.Contains("RL3006", run.Log.ErrorCodes);
        Assert.False(File.Exists(Path.Combine(repo, ".sentinels", Hangs + "_1.0.0.done")));
        Assert.Empty(Directory.Exists(Path.Combine(repo, ".staging")) ? Directory.EnumerateFileSystemEntries(Path.Combine(repo, ".staging")) : []);
        Assert.Empty(Directory.GetDirectories(Path.Combine(repo, ".locks"), "*.lock", SearchOption.AllDirectories));
    }

    [Fact]
    public void Publish_bundles_the_installed_adaptors_as_a_folder_and_a_tar_gz()
    {
        var project = Project(_dir.Combine("repo")).Adaptor($"{Alpha}@1.0.0");

        var run = Build(project, "Publish");

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("BundleAdaptorRepo", run.Log.TargetsStarted);
        var publish = Path.Combine(project.Directory, "bin", "Debug", "net10.0", "publish");
        Assert.True(File.Exists(Path.Combine(publish, "openfn-repo", "node_modules", AlphaAlias, "package.json")));
        Assert.True(File.Exists(Path.Combine(publish, "openfn-repo", ".sentinels", AlphaAlias + ".done")));
        Assert.Contains($"node_modules/{AlphaAlias}/package.json", ArchiveEntries(Path.Combine(publish, "openfn-repo.tar.gz")));
    }

    [Fact]
    public void Publish_with_RepoLockBundleOnPublish_false_installs_but_does_not_bundle()
    {
        var project = Project(_dir.Combine("repo")).Property("RepoLockBundleOnPublish", "false").Adaptor($"{Alpha}@1.0.0");

        var run = Build(project, "Publish");

        Assert.True(run.Succeeded, run.ToString());
        Assert.DoesNotContain("BundleAdaptorRepo", run.Log.TargetsStarted);
        Assert.False(Directory.Exists(Path.Combine(project.Directory, "bin", "Debug", "net10.0", "publish", "openfn-repo")));
    }

    private static List<string> ArchiveEntries(string archive)
    {
        using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        var entries = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            entries.Add(entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name);
        }

        return entries;
    }
}
