using System.Text.Json.Nodes;
using RepoLock.Tests.Infrastructure;
using static RepoLock.Tests.Tool.ToolFixture;

namespace RepoLock.Tests.Tool;

/// <summary>
/// The operator's tool tells the truth and does no harm (issue 16): the packed <c>repolock</c> run as a process on repos filled by real
/// installs (RepoLock's and a Node worker's root install), with real links, dead holders and malformed packages.
/// </summary>
[Collection(ToolCollection.Name)]
public sealed class OperatorToolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly ToolFixture _fixture;

    public OperatorToolTests(ToolFixture fixture) => _fixture = fixture;

    private PackedTool Tool => _fixture.Tool;

    private static string Alias(string name, string version) => $"{name}_{version}";

    /// <summary>tests/node/worker-install.cjs: a Node worker's root install (npm hoists the adaptor's dependencies to the repo's node_modules).</summary>
    private async Task WorkerInstallAsync(string repo, string name, string version)
    {
        var env = new Dictionary<string, string?>(_fixture.Env)
        {
            ["npm_config_userconfig"] = Path.Combine(_fixture.NpmCache.Path, "no-such-npmrc"),
            ["npm_config_noproxy"] = "127.0.0.1,localhost",
        };
        using var worker = ChildProcess.Start("node", [NodeTools.Script("worker-install.cjs"), repo, name, version, _fixture.Registry.Url], NodeTools.Dir, env);
        Assert.True(await worker.WaitForExitAsync(Patience) == 0, worker.Output);
    }

    /// <summary>Bytes of every regular file under <paramref name="dir"/>, never through a link: what the accounting must add up to.</summary>
    private static long RegularFileBytes(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Sum(f => f.Length);

    private static HashSet<string> Kinds(JsonNode problems) =>
        problems.AsArray().Select(p => $"{p!["kind"]!.GetValue<string>()} {p["alias"]?.GetValue<string>() ?? "-"}").ToHashSet();

    [Fact]
    public async Task Status_and_verify_on_a_folder_that_is_not_an_openfn_repo_fail_with_a_code_instead_of_reporting_no_problems()
    {
        var notARepo = _fixture.NewFolder("mount-parent");
        Directory.CreateDirectory(Path.Combine(notARepo, "repo"));
        File.WriteAllText(Path.Combine(notARepo, "README"), "the mount's parent\n");
        var nodeProject = _fixture.NewFolder("node-project");
        File.WriteAllText(Path.Combine(nodeProject, "package.json"), "{\"name\":\"my-app\",\"dependencies\":{}}");

        var status = await Tool.RunAsync(null, "status", "--repo", notARepo);
        var verify = await Tool.RunAsync(null, "verify", "--repo", nodeProject);

        Assert.True(status.ExitCode == 1, status.Output);
        Assert.Contains(ErrorCodes.NotARepo, status.Stderr);
        Assert.True(verify.ExitCode == 1, verify.Output);
        Assert.Contains(ErrorCodes.NotARepo, verify.Stderr);
        Assert.DoesNotContain("No problems found", verify.Stdout);
    }

    [Fact]
    public async Task A_missing_repo_is_reported_in_the_tools_words_not_the_builds_properties()
    {
        var result = await Tool.RunAsync(null, "status", "--repo", "/no/such/openfn/repo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(ErrorCodes.InvalidRepo, result.Stderr);
        Assert.Contains("Is the share mounted?", result.Stderr);
        Assert.Contains("--repo", result.Stderr);
        Assert.DoesNotContain("AdaptorRepoDir", result.Stderr);
    }

    [Fact]
    public async Task A_bad_option_value_names_the_option_and_the_form_it_expects_never_a_dotnet_type()
    {
        var result = await Tool.RunAsync(null, "prune", "--older-than", "abc", "--keep", $"{Alpha}@1.0.0", "--repo", _fixture.NewFolder("any"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--older-than: 'abc' is not a number of days", result.Stderr);
        Assert.DoesNotContain("System.", result.Stderr);
    }

    [Fact]
    public async Task A_link_planted_in_staging_is_never_sized_through_and_status_accounts_for_every_byte()
    {
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0");
        Directory.CreateDirectory(repo.StagingDir);
        File.CreateSymbolicLink(Path.Combine(repo.StagingDir, "evil"), "/usr");

        var (result, status) = await Tool.RunJsonAsync(null, "status", "--repo", repo.Root);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(0, status["debris"]!.AsArray().Sum(d => d!["bytes"]!.GetValue<long>()));
        Assert.Equal(RegularFileBytes(repo.Root), status["space"]!["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task Verify_reports_a_stock_openfn_install_as_unverified_and_fix_adopts_it_instead_of_deleting_it()
    {
        var repo = _fixture.NewFolder("stock");
        await WorkerInstallAsync(repo, Gamma, "1.0.0");
        var layout = new RepoLayout(repo);
        var alias = Alias(Gamma, "1.0.0");
        File.Delete(layout.SentinelPath(alias)); // the released OpenFn engine writes no sentinel: manifest entry and folder only

        var (found, report) = await Tool.RunJsonAsync(null, "verify", "--repo", repo);
        var (fixing, fixReport) = await Tool.RunJsonAsync(null, "verify", "--fix", "--repo", repo);

        Assert.True(found.ExitCode == 1, found.Output);
        Assert.Equal(new HashSet<string> { $"stockInstall {alias}" }, Kinds(report["problems"]!));
        Assert.True(fixing.ExitCode == 0, fixing.Output);
        Assert.Empty(fixReport["left"]!.AsArray());
        Assert.True(File.Exists(layout.AdaptorManifest(alias)), "verify --fix deleted a stock OpenFn install");
        Assert.True(JsonNode.Parse(File.ReadAllText(layout.SentinelPath(alias)))!["adopted"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Verify_reports_a_dead_lock_status_does_not_call_it_being_installed_and_fix_breaks_it()
    {
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0");
        var alias = Alias(Beta, "1.2.0");
        var lockDir = repo.LockTarget(alias) + ".lock";
        using (var holder = HostLocks.Hold(repo.LockTarget(alias), TimeSpan.FromSeconds(300)))
        {
            await holder.WaitForLineAsync("LOCKED", Patience);
            holder.Kill();
        }

        await Poll.UntilAsync(() => DateTime.UtcNow - Directory.GetLastWriteTimeUtc(lockDir) > TimeSpan.FromSeconds(2.5), Patience, "the dead holder's lock is old enough");

        var table = await Tool.RunAsync(null, "status", "--repo", repo.Root);
        var (found, report) = await Tool.RunJsonAsync(null, "verify", "--repo", repo.Root);
        var fixing = await Tool.RunAsync(null, "verify", "--fix", "--repo", repo.Root);

        Assert.DoesNotContain("being installed", table.Stdout);
        Assert.Contains("dead lock", table.Stdout);
        Assert.True(found.ExitCode == 1, found.Output);
        Assert.Contains($"deadLock {alias}", Kinds(report["problems"]!));
        Assert.True(fixing.ExitCode == 0, fixing.Output);
        Assert.False(Directory.Exists(lockDir));
        Assert.Equal([alias], RepoState.AssertConsistent(repo));
    }

    [Theory]
    [InlineData("version", "2")]
    [InlineData("range", "^99999999999.0.0")]
    public async Task A_malformed_hoisted_package_is_a_problem_row_naming_the_file_never_a_crash(string what, string value)
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0");
        var alias = Alias(Alpha, "1.0.0");
        var hoisted = Path.Combine(repo.NodeModules, "@fixture", "dep-one");
        Directory.CreateDirectory(Path.GetDirectoryName(hoisted)!);
        Directory.Move(Path.Combine(repo.AdaptorDir(alias), "node_modules", "@fixture", "dep-one"), hoisted); // as a root install hoists it
        var (file, key) = what == "version" ? (Path.Combine(hoisted, "package.json"), "version") : (repo.AdaptorManifest(alias), "dependencies");
        var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        json[key] = what == "version" ? JsonValue.Create(2) : new JsonObject { [Dep] = value };
        File.WriteAllText(file, json.ToJsonString());

        var (result, report) = await Tool.RunJsonAsync(null, "verify", "--repo", repo.Root);

        Assert.True(result.ExitCode == 1, result.Output);
        var problem = Assert.Single(report["problems"]!.AsArray(), p => p!["kind"]!.GetValue<string>() == "unjudgeable")!;
        Assert.Equal(alias, problem["alias"]!.GetValue<string>());
        Assert.Contains(Path.Combine(what == "version" ? hoisted : repo.AdaptorDir(alias), "package.json"), problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Prune_older_than_judges_age_by_the_file_servers_clock_not_the_time_an_agent_wrote_in_the_sentinel()
    {
        var repo = await _fixture.FilledRepoAsync($"{Alpha}@1.0.0", $"{Beta}@1.2.0");
        var sentinel = repo.SentinelPath(Alias(Beta, "1.2.0"));
        var json = JsonNode.Parse(File.ReadAllText(sentinel))!.AsObject();
        json["installedAt"] = DateTimeOffset.UtcNow.AddDays(-3).ToString("O"); // an agent whose clock is 3 days behind, seconds ago
        File.WriteAllText(sentinel, json.ToJsonString());

        var (result, pruned) = await Tool.RunJsonAsync(null, "prune", "--keep", $"{Alpha}@1.0.0", "--older-than", "1", "--yes", "--repo", repo.Root);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Empty(pruned["adaptors"]!.AsArray());
        Assert.Equal(2, RepoState.AssertConsistent(repo).Count);
    }

    [Fact]
    public async Task Prune_refuses_a_keep_entry_that_matches_nothing_installed_and_removes_nothing()
    {
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0", $"{Gamma}@1.0.0");

        var typo = await Tool.RunAsync(null, "prune", "--keep", "@fixture/language-btea@1.2.0", "--yes", "--repo", repo.Root);
        var allowed = await Tool.RunAsync(null, "prune", "--keep", "@fixture/language-btea@1.2.0", "--allow-unmatched", "--repo", repo.Root);

        Assert.Equal(2, typo.ExitCode);
        Assert.Contains(ErrorCodes.KeepUnmatched, typo.Stderr);
        Assert.Equal(2, RepoState.AssertConsistent(repo).Count);
        Assert.True(allowed.ExitCode == 0, allowed.Output);
        Assert.Contains("nothing installed", allowed.Stdout);
    }

    [Fact]
    public async Task Status_accounts_for_packages_a_root_install_hoisted_and_prune_reclaims_them_once_no_adaptor_needs_them()
    {
        var repo = _fixture.NewFolder("hoisted");
        await WorkerInstallAsync(repo, Alpha, "1.0.0");
        var layout = new RepoLayout(repo);
        await _fixture.InstallAsync(layout, $"{Beta}@1.2.0");
        var hoisted = Path.Combine(layout.NodeModules, "@fixture", "dep-one");
        Assert.True(File.Exists(Path.Combine(hoisted, "package.json")), "npm hoisted the dependency to the repo's node_modules");
        var orphanListing = layout.DigestListingPath(Alias(Gamma, "1.0.0"));
        File.WriteAllText(orphanListing, "left by an older prune\n");
        var strayRecord = layout.LockTarget(Alias(Gamma, "1.0.0")) + ".lock.owner.json";
        Directory.CreateDirectory(Path.GetDirectoryName(strayRecord)!);
        File.WriteAllText(strayRecord, "{\"host\":\"agent-7\"}");
        File.SetLastWriteTimeUtc(strayRecord, DateTime.UtcNow.AddHours(-1)); // left by a forced unlock an hour ago

        var (before, status) = await Tool.RunJsonAsync(null, "status", "--repo", repo);
        var bytesBefore = RegularFileBytes(repo);
        var (pruning, pruned) = await Tool.RunJsonAsync(null, "prune", "--keep", $"{Beta}@1.2.0", "--yes", "--repo", repo);
        var (after, statusAfter) = await Tool.RunJsonAsync(null, "status", "--repo", repo);

        Assert.True(before.ExitCode == 0, before.Output);
        Assert.Equal(bytesBefore, status["space"]!["total"]!.GetValue<long>());
        Assert.True(status["space"]!["packages"]!.GetValue<long>() > 0, before.Output);
        Assert.Equal([orphanListing, strayRecord], status["leftovers"]!.AsArray().Select(l => l!["path"]!.GetValue<string>()));
        Assert.True(pruning.ExitCode == 0, pruning.Output);
        Assert.Equal("removed", pruned["adaptors"]!.AsArray().Single()!["outcome"]!.GetValue<string>());
        Assert.Contains(hoisted, pruned["leftovers"]!.AsArray().Where(l => l!["outcome"]!.GetValue<string>() == "reclaimed").Select(l => l!["path"]!.GetValue<string>()));
        Assert.False(Directory.Exists(hoisted));
        Assert.False(File.Exists(orphanListing));
        Assert.False(File.Exists(strayRecord));
        Assert.Empty(statusAfter["leftovers"]!.AsArray());
        Assert.Equal(RegularFileBytes(repo), statusAfter["space"]!["total"]!.GetValue<long>());
        Assert.Equal([Alias(Beta, "1.2.0")], RepoState.AssertConsistent(layout));
    }

    [SkippableFact]
    public async Task Verify_fix_on_a_mount_that_caches_absence_leaves_an_adaptor_a_peer_installed_meanwhile_untouched()
    {
        using var mounts = new SshfsPair("entry_timeout=1,negative_timeout=90,attr_timeout=1");
        Prerequisite.SkipUnlessAvailable(mounts.SkipReason);
        var peerSide = new RepoLayout(Path.Combine(mounts.Mount1, "repo"));
        Directory.CreateDirectory(peerSide.Root);
        var listed = new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = new JsonObject { [Alias(Beta, "1.2.0")] = $"npm:{Beta}@1.2.0" } };
        File.WriteAllText(peerSide.ManifestPath, listed.ToJsonString()); // listed already: the install leaves the manifest as it is
        var agentSide = new RepoLayout(Path.Combine(mounts.Mount2, "repo")); // only now: its first lookup would cache the repo's absence
        var alias = Alias(Beta, "1.2.0");
        await Poll.UntilAsync(() => File.Exists(agentSide.ManifestPath), TimeSpan.FromSeconds(30), "the agent's mount shows the repo");
        Assert.False(File.Exists(agentSide.AdaptorManifest(alias))); // the agent's mount now caches "absent" for node_modules for 90 s

        await _fixture.InstallAsync(peerSide, $"{Beta}@1.2.0"); // a peer agent installs it meanwhile
        var (fixing, report) = await Tool.RunJsonAsync(null, "verify", "--fix", "--repo", agentSide.Root);

        Assert.True(fixing.ExitCode == 0, fixing.Output);
        Assert.Empty(report["problems"]!.AsArray());
        Assert.Equal([alias], RepoState.AssertConsistent(peerSide));
    }

    [SkippableFact]
    public async Task A_user_who_may_not_write_the_locks_gets_a_permission_error_from_unlock_and_verify_does_not_reassure_them()
    {
        Prerequisite.SkipUnlessAvailable(Environment.UserName == "root" && File.Exists("/usr/bin/setpriv") ? null : "needs root and setpriv to run the tool as another user");
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0");
        var alias = Alias(Beta, "1.2.0");
        var lockDir = repo.LockTarget(alias) + ".lock";
        Directory.CreateDirectory(lockDir);
        Directory.SetLastWriteTimeUtc(lockDir, DateTime.UtcNow.AddHours(-2)); // a Node worker's lock (no owner record), long dead
        await ChildProcess.RunAsync("chmod", ["-R", "a+rX", repo.Root, Path.GetDirectoryName(Path.GetDirectoryName(Tool.Command)!)!], "/", null, Patience);
        var env = new Dictionary<string, string?> { ["HOME"] = "/tmp", ["DOTNET_CLI_HOME"] = "/tmp", ["REPOLOCK_REPO"] = null };
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", Tool.Command];

        var unlock = await ChildProcess.RunAsync("setpriv", [.. asNobody, "unlock", alias, "--force", "--repo", repo.Root], "/", env, Patience);
        var verify = await ChildProcess.RunAsync("setpriv", [.. asNobody, "verify", "--repo", repo.Root], "/", env, Patience);

        Assert.True(unlock.ExitCode == 1, unlock.Output);
        Assert.Contains(ErrorCodes.RepoReadOnly, unlock.Stderr);
        Assert.DoesNotContain("released meanwhile", unlock.Stdout);
        Assert.True(Directory.Exists(lockDir));
        Assert.True(verify.ExitCode == 1, verify.Output);
        Assert.DoesNotContain("No problems found", verify.Stdout);
        Assert.Contains(ErrorCodes.RepoReadOnly, verify.Stdout);
    }

    [SkippableFact]
    public async Task Verify_fix_and_status_leave_the_staging_folder_of_a_live_installer_on_another_machine_alone_however_old_it_looks()
    {
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        var spec = AdaptorSpecifier.Parse("@fixture/language-slow@1.0.0");
        _fixture.Registry.AddPackage(spec.Name, spec.VersionText);
        var repo = await _fixture.FilledRepoAsync($"{Beta}@1.2.0");
        _fixture.Registry.TarballLatency = TimeSpan.FromSeconds(15); // npm works in its staging folder for a while
        try
        {
            using var installer = ChildProcess.Start(Unshare.Prefix[0], [.. Unshare.Prefix[1..], "dotnet", TestPaths.TestHostDll, "install", repo.Root,
                _fixture.Registry.Url, _fixture.NpmCache.Path, "60", "4", spec.ToString()]);
            await Poll.UntilAsync(() => RepoState.StagingFolders(repo).Count == 1 && _fixture.Registry.TarballRequests(spec.Name) > 0, Patience,
                "the installer in another PID namespace is downloading into its staging folder", () => installer.Output);
            var staging = Assert.Single(RepoState.StagingFolders(repo));
            Directory.SetLastWriteTimeUtc(staging, DateTime.UtcNow.AddHours(-2)); // older than any stale age

            var (shown, status) = await Tool.RunJsonAsync(null, "status", "--stale-age", "60", "--repo", repo.Root);
            var fixing = await Tool.RunAsync(null, "verify", "--fix", "--stale-age", "60", "--repo", repo.Root);
            var stagingKept = Directory.Exists(staging);

            Assert.True(shown.ExitCode == 0, shown.Output);
            Assert.DoesNotContain(status["debris"]!.AsArray(), d => d!["path"]!.GetValue<string>() == staging);
            Assert.True(stagingKept, "verify --fix removed a live installer's staging folder:\n" + fixing.Output);
            Assert.Equal(0, await installer.WaitForExitAsync(Patience));
            Assert.Contains(spec.Alias, RepoState.AssertConsistent(repo));
        }
        finally
        {
            _fixture.Registry.TarballLatency = TimeSpan.Zero;
        }
    }
}
