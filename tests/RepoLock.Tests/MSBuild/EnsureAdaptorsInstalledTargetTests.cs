using System.Runtime.Loader;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// The real props/targets and the freshly built task, in a project built in this process with BuildManager against a
/// <see cref="FakeNpmRegistry"/> and the real npm CLI.
/// </summary>
[Collection(MSBuildCollection.Name)]
public sealed class EnsureAdaptorsInstalledTargetTests : IDisposable
{
    private const string Alpha = "@fixture/language-alpha";
    private const string Beta = "@fixture/language-beta";
    private const string AlphaAlias = Alpha + "_1.0.0";
    private const string BetaAlias = Beta + "_2.0.0";
    private const string Target = "EnsureAdaptorsInstalled";

    private readonly TempDir _dir = new("msbuild");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start()
        .AddPackage("@fixture/dep-one", "1.2.0")
        .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^1.0.0" })
        .AddPackage(Beta, "2.0.0");

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private string Repo => _dir.Combine("repo");

    private AdaptorProject Project(HostKind host = HostKind.BuildChain) =>
        new AdaptorProject(_dir.Combine("project"), _registry.Url, host).Property("AdaptorRepoDir", Repo).Property("RepoLockCreateRepoDir", "true");

    /// <summary>npm gets a private cache and no user .npmrc, for this build only.</summary>
    private Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = _dir.Combine("npm-cache"),
        ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
        ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
    };

    private BuildRun Build(AdaptorProject project, Dictionary<string, string>? globals = null, params string[] targets) =>
        InProcessBuild.Run(project.Write(), globals, targets.Length == 0 ? null : targets, NpmEnvironment);

    /// <summary>Build, then the target by name: MSBuild hands back what it returned (Returns="@(InstalledAdaptor)") without running it again.</summary>
    private BuildRun BuildAndAskTarget(AdaptorProject project) => Build(project, null, "Build", Target);

    private static IReadOnlyList<ITaskItem> Returned(BuildRun run) =>
        run.Target(Target) is { ResultCode: TargetResultCode.Success } r ? r.Items : throw new InvalidOperationException($"{Target} did not succeed.\n{run}");

    private static string Metadata(IEnumerable<ITaskItem> items, string alias, string name) =>
        items.Single(i => i.GetMetadata("Alias") == alias).GetMetadata(name);

    private void AssertInstalled(string alias)
    {
        Assert.True(File.Exists(Path.Combine(Repo, ".sentinels", alias + ".done")), $"no sentinel for {alias}");
        Assert.True(File.Exists(Path.Combine(Repo, "node_modules", alias, "package.json")), $"no package.json for {alias}");
    }

    /// <summary>The build succeeded, the target never started, and asked for by name it reports Skipped with nothing returned.</summary>
    private static void AssertSkipped(BuildRun run)
    {
        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("CoreBuild", run.Log.TargetsStarted);
        Assert.DoesNotContain(Target, run.Log.TargetsStarted);
        Assert.Equal(TargetResultCode.Skipped, run.Target(Target)?.ResultCode);
        Assert.Empty(run.Items("InstalledAdaptor"));
    }

    [Theory]
    [InlineData("CoreCompile")]
    [InlineData("CopyFilesToOutputDirectory")]
    public void Build_installs_the_adaptors_before_it_compiles_and_copies_its_output(string step)
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"));

        Assert.True(run.Succeeded, run.ToString());
        var order = run.Log.TargetsStarted.ToList();
        Assert.Contains(Target, order);
        Assert.Contains(step, order);
        Assert.True(order.IndexOf(Target) < order.IndexOf(step), string.Join(", ", order));
        AssertInstalled(AlphaAlias);
    }

    [Fact]
    public void Build_installs_the_adaptors_after_project_references_are_resolved()
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"));

        Assert.True(run.Succeeded, run.ToString());
        var order = run.Log.TargetsStarted.ToList();
        Assert.Contains(Target, order);
        Assert.True(order.IndexOf("ResolveReferences") < order.IndexOf(Target), string.Join(", ", order)); // a task built by a ProjectReference is there
    }

    [Fact]
    public void First_build_returns_InstalledAdaptor_items_with_outcome_Installed()
    {
        var run = BuildAndAskTarget(Project().Adaptor($"{Alpha}@1.0.0"));

        var item = Assert.Single(Returned(run));
        Assert.Equal(Alpha, item.GetMetadata("Name"));
        Assert.Equal("1.0.0", item.GetMetadata("Version"));
        Assert.Equal(AlphaAlias, item.GetMetadata("Alias"));
        Assert.Equal(Path.Combine(Repo, "node_modules", AlphaAlias), item.GetMetadata("Path"));
        Assert.Equal(Path.Combine(Repo, ".sentinels", AlphaAlias + ".done"), item.GetMetadata("Sentinel"));
        Assert.Equal("Installed", item.GetMetadata("Outcome"));
    }

    [Fact]
    public void InstalledAdaptor_items_stay_in_the_project_for_later_targets()
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"));

        var item = Assert.Single(run.Items("InstalledAdaptor"));
        Assert.Equal(AlphaAlias, item.GetMetadataValue("Alias"));
    }

    [Fact]
    public void Second_build_reports_AlreadyInstalled_without_asking_the_registry()
    {
        var project = Project().Adaptor($"{Alpha}@1.0.0");
        Assert.True(Build(project).Succeeded);
        var tarballsAfterFirst = _registry.TarballRequests(Alpha);

        var second = BuildAndAskTarget(project);

        Assert.Equal("AlreadyInstalled", Assert.Single(Returned(second)).GetMetadata("Outcome"));
        Assert.Equal(1, tarballsAfterFirst);
        Assert.Equal(1, _registry.TarballRequests(Alpha));
    }

    [Fact]
    public void Both_item_forms_install_the_named_version()
    {
        var run = BuildAndAskTarget(Project().Adaptor($"{Alpha}@1.0.0").Adaptor(Beta, version: "2.0.0"));

        var items = Returned(run);
        Assert.Equal(2, items.Count);
        Assert.Equal(Alpha, Metadata(items, AlphaAlias, "Name"));
        Assert.Equal("1.0.0", Metadata(items, AlphaAlias, "Version"));
        Assert.Equal(Beta, Metadata(items, BetaAlias, "Name"));
        Assert.Equal("2.0.0", Metadata(items, BetaAlias, "Version"));
        AssertInstalled(AlphaAlias);
        AssertInstalled(BetaAlias);
    }

    [Fact]
    public void RepoLockEnabled_false_skips_the_target()
    {
        var run = BuildAndAskTarget(Project().Adaptor($"{Alpha}@1.0.0").Property("RepoLockEnabled", "false"));

        AssertSkipped(run);
        Assert.False(Directory.Exists(Repo));
    }

    [Fact]
    public void A_design_time_build_skips_the_target()
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"), new Dictionary<string, string> { ["DesignTimeBuild"] = "true" }, "Build", Target);

        AssertSkipped(run);
        Assert.False(Directory.Exists(Repo));
    }

    [Fact]
    public void A_project_without_Adaptor_items_skips_the_target()
    {
        var run = BuildAndAskTarget(Project());

        AssertSkipped(run);
        Assert.False(Directory.Exists(Repo));
    }

    [Theory]
    [InlineData("@Fixture/Language-Alpha@1.0.0", null, "RL1001")]
    [InlineData("../escape@1.0.0", null, "RL1001")]
    [InlineData(Alpha, "^1.0.0", "RL1002")]
    [InlineData(Alpha + "@1.0", null, "RL1002")]
    public void A_bad_specifier_fails_with_its_code_and_writes_nothing(string include, string? version, string code)
    {
        var run = Build(Project().Adaptor($"{Beta}@2.0.0").Adaptor(include, version));

        Assert.False(run.Succeeded);
        Assert.Equal([code], run.Log.ErrorCodes);
        Assert.False(Directory.Exists(Repo), "the repo folder was created");
        Assert.Equal(0, _registry.PackumentRequests(Beta)); // the good adaptor was not installed either
    }

    [Fact]
    public void A_package_the_registry_does_not_have_fails_with_RL3001_and_leaves_no_trace()
    {
        const string missing = "@fixture/language-missing";

        var run = Build(Project().Adaptor($"{missing}@1.0.0"));

        Assert.False(run.Succeeded);
        Assert.Equal(["RL3001"], run.Log.ErrorCodes);
        Assert.True(_registry.PackumentRequests(missing) > 0, "npm never asked the registry");
        Assert.False(File.Exists(Path.Combine(Repo, ".sentinels", missing + "_1.0.0.done")));
        Assert.False(Directory.Exists(Path.Combine(Repo, "node_modules", missing + "_1.0.0")));
        Assert.Empty(Directory.Exists(Path.Combine(Repo, ".staging")) ? Directory.EnumerateFileSystemEntries(Path.Combine(Repo, ".staging")) : []);
    }

    [Fact]
    public void A_user_set_AdaptorRepoDir_that_does_not_exist_fails_with_RL1003_and_is_not_created()
    {
        var project = new AdaptorProject(_dir.Combine("project"), _registry.Url).Property("AdaptorRepoDir", Repo).Adaptor($"{Beta}@2.0.0");

        var run = Build(project);

        Assert.False(run.Succeeded);
        Assert.Equal(["RL1003"], run.Log.ErrorCodes);
        Assert.False(Directory.Exists(Repo), "the missing share was created on the local disk");
        Assert.Equal(0, _registry.PackumentRequests(Beta));
    }

    [Fact]
    public void A_bundle_aimed_at_the_repo_itself_fails_with_RL1007_and_the_repo_stays_whole()
    {
        var project = Project().Adaptor($"{Beta}@2.0.0").Property("RepoLockBundleDir", Repo).Property("RepoLockBundleArchive", _dir.Combine("bundle.tar.gz"));

        var run = Build(project, null, "BundleAdaptorRepo"); // the publish step, as `dotnet publish -o <the build output>` aims it

        Assert.False(run.Succeeded);
        Assert.Equal(["RL1007"], run.Log.ErrorCodes);
        AssertInstalled(BetaAlias);
        Assert.True(Directory.Exists(Path.Combine(Repo, ".locks")), "the repo's own folders were replaced");
        Assert.False(File.Exists(_dir.Combine("bundle.tar.gz")));
    }

    [Fact]
    public void RepoLockCreateRepoDir_true_creates_a_user_set_AdaptorRepoDir()
    {
        var run = Build(Project().Adaptor($"{Beta}@2.0.0")); // Project() sets RepoLockCreateRepoDir=true

        Assert.True(run.Succeeded, run.ToString());
        AssertInstalled(BetaAlias);
    }

    [Fact]
    public void The_summary_line_is_logged_at_normal_verbosity()
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"));

        var summary = Assert.Single(run.Log.Messages, m => m.Message?.StartsWith("RepoLock: 1 adaptor(s) in ", StringComparison.Ordinal) == true);
        Assert.Equal(MessageImportance.High, summary.Importance);
        Assert.Contains("1 installed", summary.Message);
    }

    [Fact]
    public void AdaptorRepoDir_defaults_to_openfn_repo_in_the_output_folder_of_an_SDK_project()
    {
        var project = new AdaptorProject(_dir.Combine("sdk-project"), _registry.Url, HostKind.Sdk).Adaptor($"{Alpha}@1.0.0");

        var run = Build(project, null, Target); // the SDK's own targets need a restore; RepoLock's do not

        var expectedRepo = Path.Combine(project.Directory, "bin", "Debug", "net10.0", "openfn-repo");
        var item = Assert.Single(Returned(run));
        Assert.Equal(Path.Combine(expectedRepo, "node_modules", AlphaAlias), item.GetMetadata("Path"));
        Assert.True(File.Exists(Path.Combine(expectedRepo, ".sentinels", AlphaAlias + ".done")));
    }

    [Fact]
    public void The_task_binds_the_NuGet_Versioning_that_sits_next_to_it()
    {
        var run = Build(Project().Adaptor($"{Alpha}@1.0.0"));

        Assert.True(run.Succeeded, run.ToString());
        // MSBuild loads a task assembly given by path into a plugin load context of its own; what that context bound is what the task used.
        var taskContext = Assert.Single(AssemblyLoadContext.All, c => c != AssemblyLoadContext.Default &&
            c.Assemblies.Any(a => a.GetName().Name == "RepoLock.Tasks" && a.Location == TestPaths.TaskDll));
        var versioning = Assert.Single(taskContext.Assemblies, a => a.GetName().Name == "NuGet.Versioning");
        Assert.Equal(Path.Combine(Path.GetDirectoryName(TestPaths.TaskDll)!, "NuGet.Versioning.dll"), versioning.Location);
    }
}
