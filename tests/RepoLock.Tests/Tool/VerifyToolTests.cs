using System.Text.Json;
using System.Text.Json.Nodes;
using RepoLock.Tests.Infrastructure;
using static RepoLock.Tests.Tool.ToolFixture;

namespace RepoLock.Tests.Tool;

/// <summary><c>repolock verify [--fix]</c> and the tool's usage errors, run as a process on repos filled by real installs, then damaged.</summary>
[Collection(ToolCollection.Name)]
public sealed class VerifyToolTests
{
    private readonly ToolFixture _fixture;

    public VerifyToolTests(ToolFixture fixture) => _fixture = fixture;

    private PackedTool Tool => _fixture.Tool;

    private static HashSet<string> Kinds(JsonNode problems) =>
        problems.AsArray().Select(p => $"{p!["kind"]!.GetValue<string>()} {p["alias"]?.GetValue<string>() ?? "-"}").ToHashSet();

    [Fact]
    public async Task Verify_names_each_problem_and_its_adaptor_and_fix_then_a_build_restore_a_sound_repo()
    {
        string[] specs = [$"{Alpha}@1.0.0", $"{Beta}@1.2.0", $"{Gamma}@1.0.0"];
        var repo = await _fixture.FilledRepoAsync(specs);
        var (alpha, beta, gamma) = ($"{Alpha}_1.0.0", $"{Beta}_1.2.0", $"{Gamma}_1.0.0");
        DropManifestEntry(repo, gamma);
        Directory.Delete(repo.AdaptorDir(beta), recursive: true);
        Directory.Delete(Path.Combine(repo.AdaptorDir(alpha), "node_modules", Dep), recursive: true);
        var debris = DeadStagingFolder(repo, alpha);

        var (found, report) = await Tool.RunJsonAsync(null, "verify", "--repo", repo.Root);
        var (fixing, afterFix) = await Tool.RunJsonAsync(null, "verify", "--fix", "--repo", repo.Root);
        var gammaListedAgain = RepoManifest.Read(repo.ManifestPath)!["dependencies"]![gamma] is not null;
        var rebuilt = await _fixture.InstallAsync(repo, specs);
        var clean = await Tool.RunAsync(null, "verify", "--repo", repo.Root);

        Assert.True(found.ExitCode == 1, found.Output);
        Assert.Equal(
            new HashSet<string> { $"notInManifest {gamma}", $"sentinelWithoutFolder {beta}", $"missingDependency {alpha}", "debris -" },
            Kinds(report["problems"]!));
        Assert.True(fixing.ExitCode == 0, fixing.Output);
        Assert.Empty(afterFix["left"]!.AsArray());
        Assert.True(gammaListedAgain);
        Assert.False(Directory.Exists(debris));
        Assert.Equal(
            new Dictionary<string, InstallOutcome> { [alpha] = InstallOutcome.Installed, [beta] = InstallOutcome.Installed, [gamma] = InstallOutcome.AlreadyInstalled },
            rebuilt.Adaptors.ToDictionary(a => a.Adaptor.Alias, a => a.Outcome));
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.Contains("No problems found.", clean.Stdout);
        Assert.Equal(3, RepoState.AssertConsistent(repo).Count);
    }

    [Fact]
    public async Task Verify_finds_a_file_changed_after_install_by_its_digest_and_fix_makes_the_next_install_replace_it()
    {
        var spec = $"{Alpha}@1.0.0";
        var repo = await _fixture.FilledRepoAsync([spec]);
        var alias = $"{Alpha}_1.0.0";
        var changed = Path.Combine(repo.AdaptorDir(alias), "package.json");
        File.AppendAllText(changed, "\n"); // same name and version: only the content digest can tell

        var (found, report) = await Tool.RunJsonAsync(null, "verify", "--repo", repo.Root);
        var fixing = await Tool.RunAsync(null, "verify", "--fix", "--repo", repo.Root);
        var rebuilt = await _fixture.InstallAsync(repo, [spec]);
        var clean = await Tool.RunAsync(null, "verify", "--repo", repo.Root);

        Assert.True(found.ExitCode == 1, found.Output);
        var problem = Assert.Single(report["problems"]!.AsArray())!;
        Assert.Equal($"digestMismatch {alias}", $"{problem["kind"]!.GetValue<string>()} {problem["alias"]!.GetValue<string>()}");
        Assert.Contains("package.json", problem["detail"]!.GetValue<string>());
        Assert.True(fixing.ExitCode == 0, fixing.Output);
        Assert.Equal(InstallOutcome.Installed, Assert.Single(rebuilt.Adaptors).Outcome);
        Assert.True(clean.ExitCode == 0, clean.Output);
    }

    [Fact]
    public async Task A_command_without_a_repo_is_a_usage_error_with_a_code_and_exit_2()
    {
        var result = await Tool.RunAsync(null, "status");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(ErrorCodes.NoRepo, result.Stderr);
    }

    private static void DropManifestEntry(RepoLayout repo, string alias)
    {
        var manifest = RepoManifest.Read(repo.ManifestPath)!;
        manifest["dependencies"]!.AsObject().Remove(alias);
        File.WriteAllText(repo.ManifestPath, manifest.ToJsonString());
    }

    /// <summary>A staging folder whose marker names a process of this machine that is not running (its start time differs).</summary>
    private static string DeadStagingFolder(RepoLayout repo, string alias)
    {
        var self = MachineIdentity.Current;
        var dir = Path.Combine(repo.StagingDir, $"{self.Host}-1-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "node_modules"));
        var marker = new { alias, machineId = self.MachineId, host = self.Host, processId = self.ProcessId, processStart = "not-this-process" };
        File.WriteAllText(Path.Combine(dir, ".repolock-staging.json"), JsonSerializer.Serialize(marker));
        return dir;
    }
}
