using System.Text.Json.Nodes;
using static RepoLock.Tests.Tool.ToolFixture;

namespace RepoLock.Tests.Tool;

/// <summary><c>repolock install --from</c> and <c>repolock prune --keep-from</c>: the adaptors OpenFn project files name, as a build reads them.</summary>
[Collection(ToolCollection.Name)]
public sealed class ProjectFileToolTests
{
    private readonly ToolFixture _fixture;

    public ProjectFileToolTests(ToolFixture fixture) => _fixture = fixture;

    private PackedTool Tool => _fixture.Tool;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_fixture.NewFolder("openfn"), name);
        File.WriteAllText(path, text);
        return path;
    }

    private static List<string> Sentinels(RepoLayout repo) =>
        Directory.EnumerateFiles(repo.SentinelsDir, "*.done", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(repo.SentinelsDir, f)).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Install_from_a_project_yaml_and_a_workflow_json_installs_what_their_jobs_name_with_progress_lines()
    {
        var yaml = Write("project.yaml", $"workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '{Alpha}@1.0.0'\n      b:\n        adaptor: '{Beta}@latest'\n");
        var json = Write("workflow.json", $$"""{ "workflow": { "steps": [ { "adaptor": "{{Alpha}}@1.0.0" } ] } }""");
        var repo = new RepoLayout(_fixture.NewFolder("from-repo"));

        var result = await Tool.RunAsync(_fixture.Env, "install", "--from", yaml, json, "--registry", _fixture.Registry.Url, "--repo", repo.Root);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal([$"{Alpha}_1.0.0.done", $"{Beta}_1.2.0.done"], Sentinels(repo));
        Assert.Contains($"RepoLock: installing {Alpha}@1.0.0 into {repo.Root} with npm install", result.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"RepoLock: installed {Alpha}@1\.0\.0 in \d+\.\d s \(\d+(\.\d)? (B|KiB|MiB) on disk\)\.", result.Stdout);
        Assert.Contains($"RepoLock: 2 adaptor(s) in {repo.Root}: 0 already installed, 2 installed", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_from_a_file_with_a_bad_adaptor_names_file_line_and_column_and_installs_nothing()
    {
        var yaml = Write("project.yaml", $"workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '{Alpha}@1.x'\n      b:\n        adaptor: '{Gamma}=/src/gamma'\n");
        var repo = new RepoLayout(_fixture.NewFolder("bad-repo"));

        var result = await Tool.RunAsync(_fixture.Env, "install", $"{Beta}@1.2.0", "--from", yaml, "--registry", _fixture.Registry.Url, "--repo", repo.Root);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{yaml}(5,18): error RL1002", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{yaml}(7,18): error RL1010", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(repo.SentinelsDir), "something was installed");
    }

    [Fact]
    public async Task An_install_failure_for_an_adaptor_a_file_names_points_at_its_line_and_the_others_install()
    {
        var yaml = Write("project.yaml", $"workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '{Gamma}@1.0.0'\n      b:\n        adaptor: '@fixture/language-gone@1.0.0'\n");
        var repo = new RepoLayout(_fixture.NewFolder("fail-repo"));

        var result = await Tool.RunAsync(_fixture.Env, "install", "--from", yaml, "--registry", _fixture.Registry.Url, "--repo", repo.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{yaml}(7,18): error RL3001", result.Stderr, StringComparison.Ordinal);
        Assert.Equal([$"{Gamma}_1.0.0.done"], Sentinels(repo));
    }

    [Fact]
    public async Task Prune_keep_from_keeps_what_the_projects_use()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0", $"{Gamma}@1.0.0");
        var yaml = Write("project.yaml", $"workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '{Alpha}@1.0.0'\n");
        var json = Write("workflow.json", $$"""{ "steps": [ { "adaptors": ["{{Gamma}}@1.0.0"] } ] }""");

        var (result, plan) = await Tool.RunJsonAsync(null, "prune", "--keep-from", yaml, json, "--repo", repo.Root);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal([$"{Beta}_1.2.0"], plan["adaptors"]!.AsArray().Select(a => a!["alias"]!.GetValue<string>()));
        Assert.Equal(3, Sentinels(repo).Count); // a dry run
    }
}
