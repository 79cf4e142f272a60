using System.Formats.Tar;
using System.IO.Compression;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.MSBuild;

/// <summary>The BundleAdaptorRepo target through the real targets, in-process: incremental, settings forwarded.</summary>
[Collection(MSBuildCollection.Name)]
public sealed class BundleTargetTests : IDisposable
{
    private const string Alpha = "@fixture/language-alpha";
    private const string Beta = "@fixture/language-beta";
    private const string Target = "BundleAdaptorRepo";

    private readonly TempDir _dir = new("msbundle");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start()
        .AddPackage("@fixture/dep-one", "1.2.0")
        .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^1.0.0" })
        .AddPackage(Beta, "2.0.0");

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private string Archive => _dir.Combine("publish", "openfn-repo.tar.gz");

    private AdaptorProject Project() => new AdaptorProject(_dir.Combine("project"), _registry.Url)
        .Property("AdaptorRepoDir", _dir.Combine("repo")).Property("RepoLockCreateRepoDir", "true")
        .Property("RepoLockBundleDir", _dir.Combine("publish", "openfn-repo"))
        .Property("RepoLockBundleArchive", Archive)
        .Adaptor($"{Alpha}@1.0.0");

    private BundleRun Bundle(AdaptorProject project, string? sourceDateEpoch = null) => Bundle(project.Write(), sourceDateEpoch);

    private BundleRun Bundle(string projectPath, string? sourceDateEpoch = null, IReadOnlyDictionary<string, string>? globals = null) =>
        new(InProcessBuild.Run(projectPath, globals, [Target], new Dictionary<string, string?>
        {
            ["npm_config_cache"] = _dir.Combine("npm-cache"),
            ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
            ["npm_config_noproxy"] = "127.0.0.1,localhost",
            ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
            ["SOURCE_DATE_EPOCH"] = sourceDateEpoch,
        }));

    private sealed record BundleRun(BuildRun Run)
    {
        public bool Bundled => Run.Log.Messages.Any(m => m.Message?.StartsWith("RepoLock: bundled", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void An_unchanged_publish_skips_the_bundle_and_a_changed_list_or_a_reinstall_bundles_again()
    {
        var project = Project();
        var path = project.Write();
        var projectTime = File.GetLastWriteTimeUtc(path);
        var first = Bundle(path);
        Assert.True(first.Run.Succeeded && first.Bundled, first.Run.ToString());
        var written = File.GetLastWriteTimeUtc(Archive);

        var unchanged = Bundle(path);
        Assert.True(unchanged.Run.Succeeded, unchanged.Run.ToString());
        Assert.False(unchanged.Bundled);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Archive));

        project.Adaptor($"{Beta}@2.0.0").Write();
        File.SetLastWriteTimeUtc(path, projectTime); // only the adaptor list tells the target what changed
        var moreAdaptors = Bundle(path);
        Assert.True(moreAdaptors.Run.Succeeded && moreAdaptors.Bundled, moreAdaptors.Run.ToString());
        Assert.True(File.Exists(_dir.Combine("publish", "openfn-repo", "node_modules", Beta + "_2.0.0", "package.json")));

        File.Delete(_dir.Combine("repo", ".sentinels", Alpha + "_1.0.0.done")); // the next build reinstalls it
        var reinstalled = Bundle(path);
        Assert.True(reinstalled.Run.Succeeded && reinstalled.Bundled, reinstalled.Run.ToString());
    }

    [Fact]
    public void SOURCE_DATE_EPOCH_from_the_environment_dates_every_archive_entry()
    {
        var run = Bundle(Project(), sourceDateEpoch: "1700000000");

        Assert.True(run.Run.Succeeded, run.Run.ToString());
        using var tar = new TarReader(new GZipStream(File.OpenRead(Archive), CompressionMode.Decompress));
        while (tar.GetNextEntry() is { } entry)
        {
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), entry.ModificationTime);
        }
    }

    [Fact]
    public void SOURCE_DATE_EPOCH_as_a_property_dates_every_archive_entry_as_the_environment_variable_does()
    {
        var run = Bundle(Project().Write(), globals: new Dictionary<string, string> { ["SOURCE_DATE_EPOCH"] = "1600000000" });

        Assert.True(run.Run.Succeeded, run.Run.ToString());
        using var tar = new TarReader(new GZipStream(File.OpenRead(Archive), CompressionMode.Decompress));
        var count = 0;
        while (tar.GetNextEntry() is { } entry)
        {
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1600000000), entry.ModificationTime);
            count++;
        }

        Assert.True(count > 0);
    }

    [Fact]
    public void A_changed_adaptor_file_fails_the_publish_with_RL6003_unless_RepoLockVerifyOnBundle_is_false()
    {
        Assert.True(Bundle(Project()).Run.Succeeded);
        File.AppendAllText(_dir.Combine("repo", "node_modules", Alpha + "_1.0.0", "index.js"), "// changed\n");
        File.SetLastWriteTimeUtc(_dir.Combine("repo", ".sentinels", Alpha + "_1.0.0.done"), DateTime.UtcNow.AddMinutes(1)); // not skipped as up to date

        var verified = Bundle(Project());
        var unverified = Bundle(Project().Property("RepoLockVerifyOnBundle", "false"));

        Assert.False(verified.Run.Succeeded);
        Assert.Equal(["RL6003"], verified.Run.Log.ErrorCodes);
        Assert.True(unverified.Run.Succeeded && unverified.Bundled, unverified.Run.ToString());
    }

    [Theory]
    [InlineData(null, null, "/app/openfn-repo")]
    [InlineData("false", null, null)]
    [InlineData(null, "/srv/repo", "/srv/repo")]
    public void A_container_publish_points_the_worker_at_the_bundle_under_the_app_folder(string? enabled, string? own, string? expected)
    {
        var project = new AdaptorProject(_dir.Combine("sdk-project"), _registry.Url, HostKind.Sdk).Adaptor($"{Alpha}@1.0.0")
            .Property("AdaptorRepoDir", _dir.Combine("repo")).Property("RepoLockCreateRepoDir", "true");
        if (enabled is not null)
        {
            project.Property("RepoLockContainerEnvironment", enabled);
        }

        var globals = own is null ? null : new Dictionary<string, string> { ["_OwnRepoDir"] = own };
        var path = project.Write();
        if (own is not null)
        {
            File.WriteAllText(Path.Combine(project.Directory, "Directory.Build.targets"),
                """<Project><ItemGroup><ContainerEnvironmentVariable Include="WORKER_REPO_DIR" Value="$(_OwnRepoDir)" /></ItemGroup></Project>""");
        }

        var run = InProcessBuild.Run(path, globals, ["_RepoLockContainerEnvironment"], new Dictionary<string, string?>
        {
            ["npm_config_cache"] = _dir.Combine("npm-cache"),
            ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        });

        Assert.True(run.Succeeded, run.ToString());
        var variables = run.Items("ContainerEnvironmentVariable").ToDictionary(i => i.EvaluatedInclude, i => i.GetMetadataValue("Value"));
        Assert.Equal(expected, variables.GetValueOrDefault("WORKER_REPO_DIR"));
        Assert.Equal(enabled == "false" ? null : "/app/openfn-repo", variables.GetValueOrDefault("OPENFN_REPO_DIR"));
    }
}
