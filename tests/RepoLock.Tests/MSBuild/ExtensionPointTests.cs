using System.Text.Json;
using Microsoft.Build.Evaluation;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// What a project can see and move: the folder defaults are set at evaluation (<c>-getProperty</c> prints them), the hooks follow
/// <c>RepoLockInstallBeforeTargets</c> and <c>RepoLockBundleAfterTargets</c>, and a boolean property with a typo stops the build (RL1006).
/// </summary>
[Collection(MSBuildCollection.Name)]
public sealed class ExtensionPointTests : IDisposable
{
    private const string Alpha = "@fixture/language-alpha";
    private const string AlphaAlias = Alpha + "_1.0.0";
    private const string Target = "EnsureAdaptorsInstalled";

    private readonly TempDir _dir = new("msbuild-hooks");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start().AddPackage(Alpha, "1.0.0");

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private string Repo => _dir.Combine("repo");

    private AdaptorProject Project(HostKind host = HostKind.BuildChain) => new AdaptorProject(_dir.Combine("project"), _registry.Url, host).Adaptor($"{Alpha}@1.0.0");

    private Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = _dir.Combine("npm-cache"),
        ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
        ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
    };

    private BuildRun Build(AdaptorProject project, params string[] targets) =>
        InProcessBuild.Run(project.Write(), null, targets.Length == 0 ? null : targets, NpmEnvironment);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_folder_defaults_and_hooks_are_set_at_evaluation(bool sdk)
    {
        var project = Project(sdk ? HostKind.Sdk : HostKind.BuildChain);
        var path = project.Write();

        using var collection = new ProjectCollection();
        var evaluated = collection.LoadProject(path);

        var output = Path.Combine(project.Directory, "bin", "Debug", "net10.0");
        Assert.Equal(Path.Combine(output, "openfn-repo") + "/", evaluated.GetPropertyValue("AdaptorRepoDir"));
        Assert.Equal(Path.Combine(output, "publish", "openfn-repo") + "/", evaluated.GetPropertyValue("RepoLockBundleDir"));
        Assert.Equal(Path.Combine(output, "publish", "openfn-repo.tar.gz"), evaluated.GetPropertyValue("RepoLockBundleArchive"));
        Assert.Equal("BeforeCompile", evaluated.GetPropertyValue("RepoLockInstallBeforeTargets"));
        Assert.Equal("Publish", evaluated.GetPropertyValue("RepoLockBundleAfterTargets"));
    }

    [Fact]
    public async Task Dotnet_msbuild_getProperty_prints_the_defaults_of_an_SDK_project()
    {
        var project = Project(HostKind.Sdk);
        var path = project.Write();

        var result = await ChildProcess.RunAsync("dotnet",
            ["msbuild", path, "-getProperty:AdaptorRepoDir", "-getProperty:RepoLockBundleDir", "-getProperty:RepoLockBundleArchive", "-p:Configuration=Release"],
            project.Directory, timeout: TimeSpan.FromMinutes(3));

        Assert.True(result.ExitCode == 0, result.Output);
        var properties = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("Properties");
        var output = Path.Combine(project.Directory, "bin", "Release", "net10.0");
        Assert.Equal(Path.Combine(output, "openfn-repo") + "/", properties.GetProperty("AdaptorRepoDir").GetString());
        Assert.Equal(Path.Combine(output, "publish", "openfn-repo") + "/", properties.GetProperty("RepoLockBundleDir").GetString());
        Assert.Equal(Path.Combine(output, "publish", "openfn-repo.tar.gz"), properties.GetProperty("RepoLockBundleArchive").GetString());
    }

    [Fact]
    public void A_named_AdaptorRepoDir_is_kept_and_not_created()
    {
        var run = Build(Project().Property("AdaptorRepoDir", Repo));

        Assert.False(run.Succeeded);
        Assert.Equal(["RL1003"], run.Log.ErrorCodes);
        Assert.False(Directory.Exists(Repo));
    }

    [Fact]
    public void The_default_repo_is_created_in_the_output_folder()
    {
        var project = Project();

        var run = Build(project);

        Assert.True(run.Succeeded, run.ToString());
        Assert.True(File.Exists(Path.Combine(project.Directory, "bin", "Debug", "net10.0", "openfn-repo", ".sentinels", AlphaAlias + ".done")));
    }

    [Fact]
    public void RepoLockInstallBeforeTargets_moves_the_install_hook()
    {
        var run = Build(Project().Property("RepoLockInstallBeforeTargets", "AfterCompile"));

        Assert.True(run.Succeeded, run.ToString());
        var order = run.Log.TargetsStarted.ToList();
        Assert.True(order.IndexOf("CoreCompile") < order.IndexOf(Target) && order.IndexOf(Target) < order.IndexOf("AfterCompile"), string.Join(", ", order));
    }

    [Fact]
    public void RepoLockBundleAfterTargets_moves_the_bundle_hook()
    {
        var project = Project().Property("RepoLockBundleAfterTargets", "Build");

        var run = Build(project, "Build");

        Assert.True(run.Succeeded, run.ToString());
        var order = run.Log.TargetsStarted.ToList();
        Assert.True(order.IndexOf("AfterBuild") < order.IndexOf("BundleAdaptorRepo"), string.Join(", ", order));
        Assert.DoesNotContain("Publish", order);
        Assert.True(File.Exists(Path.Combine(project.Directory, "bin", "Debug", "net10.0", "publish", "openfn-repo.tar.gz")));
    }

    [Theory]
    [InlineData("RepoLockEnabled", "flase")]
    [InlineData("RepoLockEnabled", "off")]
    [InlineData("RepoLockContainerEnvironment", "no")]
    [InlineData("RepoLockBundleOnPublish", "ture")]
    [InlineData("RepoLockContainerEnvironment", "yes")]
    [InlineData("RepoLockCreateRepoDir", "1")]
    [InlineData("RepoLockIgnoreScripts", "no")]
    [InlineData("RepoLockOffline", "on")]
    [InlineData("RepoLockVerifyOnBundle", "treu")]
    public void A_boolean_property_with_a_typo_fails_with_RL1006_naming_it_before_anything_runs(string property, string value)
    {
        var project = Project().Property("AdaptorRepoDir", Repo).Property("RepoLockCreateRepoDir", "true").Property(property, value);

        var run = Build(project, "Publish");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Log.Errors);
        Assert.Equal("RL1006", error.Code);
        Assert.Contains($"{property}='{value}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(project.Path, error.File);
        Assert.False(Directory.Exists(Repo), "the repo was created");
        Assert.Equal(0, _registry.PackumentRequests(Alpha));
    }

    [Theory]
    [InlineData("TRUE")]
    [InlineData("True")]
    [InlineData("")]
    public void True_in_any_case_and_empty_are_accepted(string value)
    {
        var run = Build(Project().Property("AdaptorRepoDir", Repo).Property("RepoLockCreateRepoDir", value == "" ? "true" : value).Property("RepoLockBundleOnPublish", value), "Publish");

        Assert.True(run.Succeeded, run.ToString());
        Assert.True(File.Exists(Path.Combine(Repo, ".sentinels", AlphaAlias + ".done")));
    }

    [Fact]
    public void RepoLockEnabled_FALSE_in_capitals_switches_RepoLock_off()
    {
        var run = Build(Project().Property("RepoLockEnabled", "FALSE"));

        Assert.True(run.Succeeded, run.ToString());
        Assert.DoesNotContain(Target, run.Log.TargetsStarted);
        Assert.Equal(0, _registry.PackumentRequests(Alpha));
    }
}
