using System.Text.Json.Nodes;
using RepoLock.Tests.Infrastructure;
using static RepoLock.Tests.Tool.ToolFixture;

namespace RepoLock.Tests.Tool;

/// <summary>The <c>repolock</c> tool, packed, installed with <c>dotnet tool install</c>, and run as a process on repos filled by real installs.</summary>
[Collection(ToolCollection.Name)]
public sealed class RepoLockToolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly ToolFixture _fixture;

    public RepoLockToolTests(ToolFixture fixture) => _fixture = fixture;

    private PackedTool Tool => _fixture.Tool;

    private static string Alias(string name, string version) => $"{name}_{version}";

    private static JsonObject Adaptor(JsonNode status, string alias) =>
        status["adaptors"]!.AsArray().Single(a => a!["alias"]!.GetValue<string>() == alias)!.AsObject();

    private static List<string> Dependencies(RepoLayout layout) =>
        RepoManifest.Read(layout.ManifestPath)?["dependencies"]?.AsObject().Select(d => d.Key).Order(StringComparer.Ordinal).ToList() ?? [];

    [Fact]
    public void The_tool_package_ships_the_shared_core_next_to_the_command_and_its_README()
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(Tool.Nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToList();

        Assert.Contains("tools/net8.0/any/repolock.dll", entries);
        Assert.Contains("tools/net8.0/any/RepoLock.Core.dll", entries);
        Assert.Contains("tools/net8.0/any/DotnetToolSettings.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.True(File.Exists(Tool.Command), $"dotnet tool install wrote no {Tool.Command}");
    }

    [Fact]
    public async Task Status_shows_each_installed_adaptor_with_its_sentinel_details_as_json_and_as_a_table()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0");

        var (result, json) = await Tool.RunJsonAsync(null, "status", "--repo", repo.Root);
        var table = await Tool.RunAsync(new Dictionary<string, string?> { ["REPOLOCK_REPO"] = repo.Root }, "status");

        Assert.True(result.ExitCode == 0, result.Output);
        var alpha = Adaptor(json, Alias(Alpha, "1.0.0"));
        Assert.True(alpha["installed"]!.GetValue<bool>() && alpha["listed"]!.GetValue<bool>() && alpha["hasSentinel"]!.GetValue<bool>());
        Assert.Equal(Environment.MachineName, alpha["host"]!.GetValue<string>());
        Assert.True(alpha["bytes"]!.GetValue<long>() > 0);
        Assert.StartsWith("v2-sha256-", alpha["digest"]!.GetValue<string>()); // RepoLock installs record a content digest
        Assert.Equal(2, json["adaptors"]!.AsArray().Count);
        Assert.Empty(json["locks"]!.AsArray());
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.Contains(Alpha, table.Stdout);
        Assert.Contains("2 adaptor(s) installed of 2 found", table.Stdout);
    }

    [Fact]
    public async Task Status_shows_a_build_held_in_npm_as_a_live_holder_and_unlock_refuses_it()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0");
        var checkpoints = new CheckpointDir(_fixture.NewFolder("checkpoints"));
        checkpoints.Block(CheckpointDir.AfterNpm);
        using var build = ChildProcess.Start("dotnet",
            [TestPaths.TestHostDll, "install", repo.Root, _fixture.Registry.Url, _fixture.NpmCache.Path, "300", "4", $"{Gamma}@1.0.0"], env: checkpoints.Environment);
        var pid = await checkpoints.WaitReachedAsync(CheckpointDir.AfterNpm, Patience, () => build.Output);

        var (status, json) = await Tool.RunJsonAsync(null, "status", "--repo", repo.Root);
        var unlock = await Tool.RunAsync(null, "unlock", $"{Gamma}@1.0.0", "--repo", repo.Root);
        checkpoints.Unblock(CheckpointDir.AfterNpm);
        var buildExit = await build.WaitForExitAsync(Patience);

        Assert.True(status.ExitCode == 0, status.Output);
        var held = json["locks"]!.AsArray().Single(l => l!["alias"]!.GetValue<string>() == Alias(Gamma, "1.0.0"))!;
        Assert.Equal("alive", held["verdict"]!.GetValue<string>());
        Assert.Equal(pid, held["processId"]!.GetValue<int>());
        Assert.InRange(held["age"]!.GetValue<double>(), 0, 300); // seconds since the holder's last refresh, a number for scripts
        Assert.Contains($"install {Gamma}@1.0.0", held["holder"]!.GetValue<string>());
        Assert.True(Adaptor(json, Alias(Gamma, "1.0.0")) is { } gamma && !gamma["installed"]!.GetValue<bool>());
        Assert.True(unlock.ExitCode == 2, unlock.Output);
        Assert.Contains(ErrorCodes.UnlockRefused, unlock.Stderr);
        Assert.True(buildExit == 0, build.Output); // the refused unlock left the build's lock alone: it finished and released it
        Assert.True(repo.IsInstalled(Alias(Gamma, "1.0.0")));
    }

    [Fact]
    public async Task Unlock_removes_the_lock_of_a_holder_that_is_gone_through_the_waiters_break_path()
    {
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0");
        var target = repo.LockTarget(Alias(Beta, "1.2.0"));
        var lockDir = target + ".lock";
        using (var holder = HostLocks.Hold(target, TimeSpan.FromSeconds(300)))
        {
            await holder.WaitForLineAsync("LOCKED", Patience);
            holder.Kill();
        }

        // The waiters' rule proves a dead holder only once its lock is over a second old (a newer lock could share a younger mtime).
        await Poll.UntilAsync(() => DateTime.UtcNow - Directory.GetLastWriteTimeUtc(lockDir) > TimeSpan.FromSeconds(2.5), Patience, "the dead holder's lock is old enough");

        var (unlock, json) = await Tool.RunJsonAsync(null, "unlock", Alias(Beta, "1.2.0"), "--repo", repo.Root);

        Assert.True(unlock.ExitCode == 0, unlock.Output);
        Assert.True(json["removed"]!.GetValue<bool>(), unlock.Output);
        Assert.Equal("dead", json["lock"]!["verdict"]!.GetValue<string>());
        Assert.False(Directory.Exists(lockDir));
        Assert.Empty(RepoState.LockDebris(repo));
    }

    [Fact]
    public async Task Prune_lists_what_would_go_without_yes_and_with_yes_removes_it_but_never_an_adaptor_being_installed()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0", $"{Gamma}@1.0.0");
        var keepFile = Path.Combine(_fixture.NewFolder("keep"), "keep.txt");
        File.WriteAllText(keepFile, $"# what the pipelines use\n{Alpha}@1.0.0   # the http jobs\n\n");
        using var installer = HostLocks.Hold(repo.LockTarget(Alias(Gamma, "1.0.0")), TimeSpan.FromSeconds(300));
        await installer.WaitForLineAsync("LOCKED", Patience);

        var (dry, planned) = await Tool.RunJsonAsync(null, "prune", "--keep-file", keepFile, "--repo", repo.Root);
        var afterDryRun = RepoState.AssertConsistent(repo);
        var (real, pruned) = await Tool.RunJsonAsync(null, "prune", "--keep-file", keepFile, "--yes", "--repo", repo.Root);

        Assert.True(dry.ExitCode == 0, dry.Output);
        Assert.Equal([Alias(Beta, "1.2.0"), Alias(Gamma, "1.0.0")], planned["adaptors"]!.AsArray().Select(a => a!["alias"]!.GetValue<string>()));
        Assert.True(planned["bytes"]!.GetValue<long>() > 0);
        Assert.Equal(3, afterDryRun.Count);
        Assert.True(real.ExitCode == 0, real.Output);
        var outcomes = pruned["adaptors"]!.AsArray().ToDictionary(a => a!["alias"]!.GetValue<string>(), a => a!["outcome"]!.GetValue<string>());
        Assert.Equal("removed", outcomes[Alias(Beta, "1.2.0")]);
        Assert.StartsWith("skipped", outcomes[Alias(Gamma, "1.0.0")]);
        Assert.False(File.Exists(repo.SentinelPath(Alias(Beta, "1.2.0"))));
        Assert.False(Directory.Exists(repo.AdaptorDir(Alias(Beta, "1.2.0"))));
        Assert.Equal([Alias(Alpha, "1.0.0"), Alias(Gamma, "1.0.0")], RepoState.AssertConsistent(repo).Order(StringComparer.Ordinal));
        Assert.Equal([Alias(Alpha, "1.0.0"), Alias(Gamma, "1.0.0")], Dependencies(repo));
        Assert.Empty(RepoState.StagingFolders(repo));
    }

    [Fact]
    public async Task Prune_runs_alongside_a_build_that_installs_a_kept_adaptor_and_both_leave_a_consistent_repo()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0");
        var checkpoints = new CheckpointDir(_fixture.NewFolder("checkpoints"));
        checkpoints.Block(CheckpointDir.AfterMove); // the build has moved gamma into place and is about to list it
        using var build = ChildProcess.Start("dotnet",
            [TestPaths.TestHostDll, "install", repo.Root, _fixture.Registry.Url, _fixture.NpmCache.Path, "300", "4", $"{Gamma}@1.0.0"], env: checkpoints.Environment);
        await checkpoints.WaitReachedAsync(CheckpointDir.AfterMove, Patience, () => build.Output);

        var prune = await Tool.RunAsync(null, "prune", "--keep", $"{Alpha}@1.0.0", $"{Gamma}@1.0.0", "--yes", "--repo", repo.Root);
        checkpoints.Unblock(CheckpointDir.AfterMove);
        var buildExit = await build.WaitForExitAsync(Patience);

        Assert.True(prune.ExitCode == 0, prune.Output);
        Assert.True(buildExit == 0, build.Output);
        Assert.Equal([Alias(Alpha, "1.0.0"), Alias(Gamma, "1.0.0")], RepoState.AssertConsistent(repo).Order(StringComparer.Ordinal));
        Assert.Equal([Alias(Alpha, "1.0.0"), Alias(Gamma, "1.0.0")], Dependencies(repo));
    }

    [Fact]
    public async Task Install_from_the_tool_leaves_the_same_repo_as_the_install_a_build_does()
    {
        var fromCore = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0");
        var fromTool = new RepoLayout(_fixture.NewFolder("tool-repo"));

        var result = await Tool.RunAsync(_fixture.Env, "install", $"{Alpha}@1.0.0", $"{Beta}@latest", "--registry", _fixture.Registry.Url, "--repo", fromTool.Root);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"RepoLock: 2 adaptor(s) in {fromTool.Root}: 0 already installed, 2 installed", result.Stdout);
        Assert.Equal(Tree(fromCore), Tree(fromTool));
        Assert.Equal(Dependencies(fromCore), Dependencies(fromTool));
        Assert.Equal(RepoState.AssertConsistent(fromCore).Order(StringComparer.Ordinal), RepoState.AssertConsistent(fromTool).Order(StringComparer.Ordinal));
    }

    /// <summary>Every file under node_modules with its content, and every sentinel's adaptor.</summary>
    private static List<string> Tree(RepoLayout layout) =>
        Directory.EnumerateFiles(layout.NodeModules, "*", SearchOption.AllDirectories)
            .Select(f => $"{Path.GetRelativePath(layout.Root, f)}: {File.ReadAllText(f)}")
            .Concat(Directory.EnumerateFiles(layout.SentinelsDir, "*.done", SearchOption.AllDirectories)
                .Select(f => Sentinel.TryRead(f)!).Select(s => $"sentinel {s.Alias} {s.Name} {s.Version} {s.Integrity}"))
            .Order(StringComparer.Ordinal).ToList();
}
