using Xunit.Abstractions;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// <c>OpenFnProject</c> items through the real targets and task: a consumer with only a project.yaml or a CLI workflow installs exactly
/// the adaptors its jobs name, an edit is picked up, and each error is located where the mistake is.
/// </summary>
[Collection(MSBuildCollection.Name)]
public sealed class OpenFnProjectTargetTests : IDisposable
{
    private const string Alpha = "@fixture/language-alpha";
    private const string Beta = "@fixture/language-beta";
    private const string Gamma = "@fixture/language-gamma";

    private readonly TempDir _dir = new("msbuild-openfn");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start()
        .AddPackage(Alpha, "1.0.0")
        .AddPackage(Beta, "2.0.0")
        .AddPackage(Gamma, "3.0.0");

    private readonly ITestOutputHelper _output;

    public OpenFnProjectTargetTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private string Repo => _dir.Combine("repo");

    private AdaptorProject Project() =>
        new AdaptorProject(_dir.Combine("project"), _registry.Url).Property("AdaptorRepoDir", Repo).Property("RepoLockCreateRepoDir", "true");

    private Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = _dir.Combine("npm-cache"),
        ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
        ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
    };

    private BuildRun Build(AdaptorProject project) => InProcessBuild.Run(project.Write(), null, null, NpmEnvironment);

    private string WriteFile(string name, string text)
    {
        var path = _dir.Combine("project", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Yaml(params (string Job, string? Adaptor)[] jobs) =>
        "name: test\nworkflows:\n  wf:\n    jobs:\n" + string.Concat(jobs.Select(j => $"      {j.Job}:\n        name: {j.Job}\n" + (j.Adaptor is null ? "" : $"        adaptor: '{j.Adaptor}'\n")));

    private static List<string> Installed(BuildRun run) => run.Items("InstalledAdaptor").Select(i => i.GetMetadataValue("Alias")).Order(StringComparer.Ordinal).ToList();

    private List<string> Sentinels() =>
        Directory.Exists(Path.Combine(Repo, ".sentinels"))
            ? Directory.EnumerateFiles(Path.Combine(Repo, ".sentinels"), "*.done", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(Repo, ".sentinels"), f)).Order(StringComparer.Ordinal).ToList()
            : [];

    [Fact]
    public void A_consumer_with_only_a_project_yaml_installs_each_adaptor_its_jobs_name_once()
    {
        WriteFile("project.yaml", Yaml(("a", $"{Alpha}@1.0.0"), ("b", $"{Beta}@2.0.0"), ("c", $"{Alpha}@1.0.0"), ("no-adaptor", null)));

        var run = Build(Project().OpenFnProject("project.yaml"));

        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal([$"{Alpha}_1.0.0", $"{Beta}_2.0.0"], Installed(run));
        Assert.Equal([$"{Alpha}_1.0.0.done", $"{Beta}_2.0.0.done"], Sentinels());
        Assert.Equal((1, 1, 0), (_registry.TarballRequests(Alpha), _registry.TarballRequests(Beta), _registry.TarballRequests(Gamma)));
    }

    [Fact]
    public void A_consumer_with_only_a_CLI_workflow_json_installs_its_steps_adaptors()
    {
        WriteFile("workflow.json", $$"""{ "workflow": { "steps": [ { "id": "a", "adaptors": ["{{Gamma}}@3.0.0"] }, { "id": "b", "adaptor": "{{Beta}}@2.0.0" } ] } }""");

        var run = Build(Project().OpenFnProject("workflow.json"));

        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal([$"{Beta}_2.0.0", $"{Gamma}_3.0.0"], Installed(run));
        Assert.Equal(0, _registry.TarballRequests(Alpha));
    }

    [Fact]
    public void An_edit_that_adds_a_job_with_a_new_adaptor_installs_it_on_the_next_build_and_only_it()
    {
        WriteFile("project.yaml", Yaml(("a", $"{Alpha}@1.0.0")));
        var first = Build(Project().OpenFnProject("project.yaml"));
        Assert.True(first.Succeeded, first.ToString());

        WriteFile("project.yaml", Yaml(("a", $"{Alpha}@1.0.0"), ("new-job", $"{Beta}@2.0.0")));
        var second = Build(Project().OpenFnProject("project.yaml"));

        Assert.True(second.Succeeded, second.ToString());
        Assert.Equal([$"{Alpha}_1.0.0", $"{Beta}_2.0.0"], Installed(second));
        Assert.Equal((1, 1), (_registry.TarballRequests(Alpha), _registry.TarballRequests(Beta)));
        Assert.Equal(["AlreadyInstalled", "Installed"], second.Items("InstalledAdaptor").OrderBy(i => i.GetMetadataValue("Alias"), StringComparer.Ordinal).Select(i => i.GetMetadataValue("Outcome")));
    }

    [Fact]
    public void Explicit_items_and_project_adaptors_merge()
    {
        WriteFile("project.yaml", Yaml(("a", $"{Alpha}@1.0.0")));

        var run = Build(Project().OpenFnProject("project.yaml").Adaptor($"{Alpha}@1.0.0").Adaptor(Gamma, "3.0.0"));

        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal([$"{Alpha}_1.0.0", $"{Gamma}_3.0.0"], Installed(run));
        Assert.Equal(1, _registry.TarballRequests(Alpha));
    }

    [Theory]
    [InlineData("bad-version", "RL1002")]
    [InlineData("path", "RL1010")]
    [InlineData("conflict", "RL1011")]
    public void An_error_in_a_project_file_names_the_file_line_and_column_and_nothing_is_written(string kind, string code)
    {
        var adaptor = kind switch
        {
            "bad-version" => $"{Alpha}@~1.0.0",
            "path" => $"{Alpha}=/src/adaptors/packages/alpha",
            _ => $"{Alpha}@1.0.0",
        };
        var yaml = WriteFile("openfn/project.yaml", Yaml(("ok", $"{Beta}@2.0.0"), ("broken", adaptor)));
        var project = Project().OpenFnProject("openfn/project.yaml");
        if (kind == "conflict")
        {
            project.Adaptor(Alpha, "0.9.0");
        }

        var run = Build(project);

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Log.Errors);
        Assert.Equal((code, yaml, 10, 18), (error.Code, error.File, error.LineNumber, error.ColumnNumber));
        Assert.False(Directory.Exists(Repo), "the repo was created");
        Assert.Equal(0, _registry.TarballRequests(Beta));
    }

    [Fact]
    public void A_missing_project_file_is_RL1008_naming_it()
    {
        var run = Build(Project().OpenFnProject("openfn/missing.yaml"));

        var error = Assert.Single(run.Log.Errors);
        Assert.Equal(("RL1008", _dir.Combine("project", "openfn", "missing.yaml")), (error.Code, error.File));
    }

    [Fact]
    public void A_bad_Adaptor_item_names_the_project_file_that_defines_it_not_the_targets()
    {
        var props = WriteFile("adaptors.props", $"""<Project><ItemGroup><Adaptor Include="{Alpha}@1.0" /></ItemGroup></Project>""");
        var project = Project();
        var path = project.Write();
        File.WriteAllText(path, File.ReadAllText(path).Replace("<ItemGroup />", $"<Import Project=\"{props}\" />", StringComparison.Ordinal));

        var run = InProcessBuild.Run(path, null, null, NpmEnvironment);

        var error = Assert.Single(run.Log.Errors);
        Assert.Equal(("RL1002", props), (error.Code, error.File));
    }

    [Fact]
    public void An_install_that_fails_for_an_adaptor_a_project_file_names_points_at_its_line_and_column()
    {
        var yaml = WriteFile("project.yaml", Yaml(("ok", $"{Alpha}@1.0.0"), ("gone", "@fixture/language-gone@1.0.0")));

        var run = Build(Project().OpenFnProject("project.yaml"));

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Log.Errors);
        Assert.Equal(("RL3001", yaml, 10, 18), (error.Code, error.File, error.LineNumber, error.ColumnNumber));
        Assert.Equal(1, _registry.TarballRequests(Alpha)); // the other adaptor still installed
    }

    [Fact]
    public void A_tag_that_cannot_be_resolved_for_an_Adaptor_item_names_its_defining_project()
    {
        var props = WriteFile("adaptors.props", """<Project><ItemGroup><Adaptor Include="@fixture/language-gone@latest" /></ItemGroup></Project>""");
        var project = Project();
        var path = project.Write();
        File.WriteAllText(path, File.ReadAllText(path).Replace("<ItemGroup />", $"<Import Project=\"{props}\" />", StringComparison.Ordinal));

        var run = InProcessBuild.Run(path, null, null, NpmEnvironment);

        var error = Assert.Single(run.Log.Errors);
        Assert.Equal(("RL1004", props), (error.Code, error.File));
    }

    [Fact]
    public void A_cold_install_with_npm_slowed_to_20_s_shows_a_line_at_least_every_10_s_before_the_summary()
    {
        _registry.TarballLatency = TimeSpan.FromSeconds(20);
        WriteFile("project.yaml", Yaml(("a", $"{Alpha}@1.0.0")));

        var run = Build(Project().OpenFnProject("project.yaml"));

        Assert.True(run.Succeeded, run.ToString());
        var lines = run.Log.Shown.Where(l => l.Message.StartsWith("RepoLock:", StringComparison.Ordinal)).ToList();
        var start = lines.FindIndex(l => l.Message.Contains($"installing {Alpha}@1.0.0 into {Repo}", StringComparison.Ordinal));
        var end = lines.FindIndex(l => l.Message.StartsWith($"RepoLock: installed {Alpha}@1.0.0 in ", StringComparison.Ordinal));
        var summary = lines.FindIndex(l => l.Message.Contains("adaptor(s) in", StringComparison.Ordinal));
        Assert.True(start >= 0 && start < end && end < summary, string.Join("\n", lines));
        var during = lines[start..(end + 1)];
        Assert.True(during.Count(l => l.Message.Contains("still installing", StringComparison.Ordinal)) >= 2, string.Join("\n", during));
        var gaps = during.Zip(during.Skip(1), (a, b) => b.ReceivedUtc - a.ReceivedUtc).ToList();
        Assert.True(lines[end].ReceivedUtc - lines[start].ReceivedUtc >= TimeSpan.FromSeconds(20), "npm was not slowed: the test proves nothing");
        Assert.All(gaps, g => Assert.True(g <= TimeSpan.FromSeconds(10), $"a gap of {g.TotalSeconds:0.0} s: " + string.Join("\n", during.Select(l => $"{l.ReceivedUtc:HH:mm:ss.fff} {l.Message}"))));
        Assert.Matches(@"\(\d+(\.\d)? (B|KiB|MiB) on disk\)", lines[end].Message);
        _output.WriteLine(string.Join("\n", during.Select(l => $"{(l.ReceivedUtc - during[0].ReceivedUtc).TotalSeconds:0.00} s  {l.Message}")));
    }
}
