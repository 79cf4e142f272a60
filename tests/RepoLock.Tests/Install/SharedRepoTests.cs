using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Install;

/// <summary>
/// A shared repo others write too: guards against the big mistakes, a holder that lost its lock, the manifest's self-repair, a root npm
/// install that pruned an adaptor, and install scripts.
/// </summary>
public class SharedRepoTests : IClassFixture<InstallFixture>, IDisposable
{
    private const string Alpha = "@fixture/language-alpha@1.0.0";
    private const string Beta = "@fixture/language-beta@1.2.0";
    private const string BetaAlias = "@fixture/language-beta_1.2.0";
    private const string Scripted = "@fixture/language-scripted@1.0.0";
    private const string ScriptMark = "install-script-ran";

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("shared");
    private readonly CollectingLog _log = new();
    private readonly RepoLayout _layout;

    public SharedRepoTests(InstallFixture fx)
    {
        _fx = fx;
        _fx.Registry.AddPackage("@fixture/language-scripted", "1.0.0", installScript: $"node -e \"require('fs').writeFileSync('{ScriptMark}', 'yes')\"");
        _layout = new RepoLayout(_dir.Combine("repo"));
    }

    public void Dispose() => _dir.Dispose();

    private AdaptorRepo Repo(RepoLockSettings? settings = null, IProcessRunner? runner = null) => new(_layout, settings ?? _fx.Settings(), _log, runner);

    private static IReadOnlyList<AdaptorSpecifier> Specs(params string[] s) => s.Select(x => AdaptorSpecifier.Parse(x)).ToList();

    private JsonObject Deps() => JsonNode.Parse(File.ReadAllText(_layout.ManifestPath))!["dependencies"]!.AsObject();

    private string[] Tree(string root) => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToArray();

    private async Task Install(params string[] specs)
    {
        var result = await Repo().EnsureInstalledAsync(Specs(specs), default);
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
    }

    [Fact]
    public void A_repo_folder_that_does_not_exist_is_RL1003_asking_whether_the_share_is_mounted_and_nothing_is_created()
    {
        var missing = _dir.Combine("mnt", "openfn", "repo");

        var e = Assert.Throws<RepoLockException>(() => new AdaptorRepo(missing, _fx.Settings() with { CreateRepoDir = false }));

        Assert.Equal(ErrorCodes.InvalidRepo, e.Code);
        Assert.Contains("mounted", e.Message);
        Assert.False(Directory.Exists(_dir.Combine("mnt")));
    }

    [Theory]
    [InlineData("repo")]
    [InlineData("repo/publish")]
    [InlineData(".")]
    public async Task A_bundle_destination_that_is_the_repo_is_inside_it_or_contains_it_is_RL1007_and_nothing_is_written(string relative)
    {
        await Install(Beta);
        var before = Tree(_dir.Path);
        var dest = Path.GetFullPath(Path.Combine(_dir.Path, relative));

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta), dest, Path.Combine(_dir.Path, "bundle.tar.gz")));

        Assert.Equal(ErrorCodes.BundleDestinationOverlapsRepo, e.Code);
        Assert.Equal(before, Tree(_dir.Path));
    }

    [Fact]
    public async Task A_bundle_destination_reached_through_a_link_to_the_repo_is_RL1007()
    {
        await Install(Beta);
        var link = _dir.Combine("publish-link");
        Directory.CreateSymbolicLink(link, _layout.Root);

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta), Path.Combine(link, "openfn-repo"), null));

        Assert.Equal(ErrorCodes.BundleDestinationOverlapsRepo, e.Code);
        Assert.False(Directory.Exists(Path.Combine(_layout.Root, "openfn-repo")));
    }

    [Fact]
    public async Task An_old_bundle_is_replaced_only_by_a_complete_new_one()
    {
        await Install(Beta);
        var dest = _dir.Combine("publish", "openfn-repo");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "old-bundle"), "old");

        Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta, Alpha), dest, null)); // alpha is not installed
        Assert.True(File.Exists(Path.Combine(dest, "old-bundle")), "a failed bundle touched the old one");

        RepoBundle.Create(_layout, Specs(Beta), dest, null);
        Assert.False(File.Exists(Path.Combine(dest, "old-bundle")));
        Assert.True(new RepoLayout(dest).IsInstalled(BetaAlias));
        Assert.Equal(["openfn-repo"], Directory.GetFileSystemEntries(_dir.Combine("publish")).Select(Path.GetFileName)); // nothing beside it
    }

    [Fact]
    public async Task A_holder_whose_lock_is_broken_while_npm_runs_keeps_the_peers_complete_install_and_reports_InstalledByPeer()
    {
        string? peerSentinel = null;
        var marker = Path.Combine(_layout.AdaptorDir(BetaAlias), "peer-was-here");
        var broken = 0;
        var settings = _fx.Settings(checkpoint: (point, _) =>
        {
            if (point != "after-npm" || Interlocked.Exchange(ref broken, 1) == 1)
            {
                return;
            }

            // Another process judges our lock stale and breaks it; a peer installs the adaptor completely meanwhile.
            var lockDir = LockService.LockDirFor(_layout.LockTarget(BetaAlias));
            File.Delete(LockOwnerRecord.PathFor(lockDir));
            Directory.Delete(lockDir);
            var peer = new AdaptorRepo(_layout, _fx.Settings(), new CollectingLog()).EnsureInstalledAsync(Specs(Beta), default).GetAwaiter().GetResult();
            Assert.Equal(InstallOutcome.Installed, Assert.Single(peer.Adaptors).Outcome);
            File.WriteAllText(marker, "peer");
            peerSentinel = File.ReadAllText(_layout.SentinelPath(BetaAlias));
        });

        var result = await Repo(settings).EnsureInstalledAsync(Specs(Beta), default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
        Assert.Equal(InstallOutcome.InstalledByPeer, Assert.Single(result.Adaptors).Outcome);
        Assert.Equal("peer", File.ReadAllText(marker));                                  // the peer's adaptor folder was not replaced
        Assert.Equal(peerSentinel, File.ReadAllText(_layout.SentinelPath(BetaAlias)));  // nor its sentinel
    }

    [Fact]
    public async Task A_holder_that_lost_its_lock_before_the_manifest_write_writes_nothing_and_fails_with_RL2002()
    {
        LockHandle? taker = null;
        var settings = _fx.Settings(checkpoint: (point, _) =>
        {
            if (point == "after-move")
            {
                var lockDir = LockService.LockDirFor(_layout.LockTarget(BetaAlias));
                File.Delete(LockOwnerRecord.PathFor(lockDir));
                Directory.Delete(lockDir);
                taker = new LockService(new LockSettings()).StartWaiting(_layout.LockTarget(BetaAlias), "taker").TryAcquire("take over");
            }
        });

        try
        {
            var result = await Repo(settings).EnsureInstalledAsync(Specs(Beta), default);

            Assert.NotNull(taker);
            Assert.Equal(ErrorCodes.LockLost, Assert.Single(result.Failures).Code);
            Assert.False(File.Exists(_layout.ManifestPath) && Deps().ContainsKey(BetaAlias), "the manifest was written after the lock was lost");
            Assert.False(File.Exists(_layout.SentinelPath(BetaAlias)));
        }
        finally
        {
            taker?.Dispose();
        }
    }

    [Fact]
    public async Task A_cache_hit_lists_again_an_adaptor_whose_manifest_entry_was_dropped_without_starting_npm()
    {
        await Install(Alpha, Beta);
        var deps = Deps();
        deps.Remove(BetaAlias);
        File.WriteAllText(_layout.ManifestPath, new JsonObject { ["name"] = "openfn-repo", ["dependencies"] = deps.DeepClone() }.ToJsonString());
        var runner = new CountingRunner();

        var result = await Repo(runner: runner).EnsureInstalledAsync(Specs(Alpha, Beta), default);

        Assert.All(result.Adaptors, a => Assert.Equal(InstallOutcome.AlreadyInstalled, a.Outcome));
        Assert.Equal(0, runner.Count);
        Assert.Equal("npm:@fixture/language-beta@1.2.0", Deps()[BetaAlias]!.GetValue<string>());
        Assert.True(Deps().ContainsKey("@fixture/language-alpha_1.0.0"));
    }

    [Fact]
    public async Task An_adaptor_that_a_root_npm_install_pruned_is_reinstalled_and_listed_by_the_next_build()
    {
        await Install(Beta);
        File.WriteAllText(_layout.ManifestPath, """{ "name": "openfn-repo", "private": true, "dependencies": {} }"""); // a worker's edit
        var (code, output) = NpmCli.Run(_layout.Root, "install", "--no-audit", "--no-fund", "--registry", _fx.Registry.Url, "--cache", _fx.NpmCache.Path);
        Assert.True(code == 0, output);
        Assert.False(Directory.Exists(_layout.AdaptorDir(BetaAlias)), "npm did not prune the unlisted adaptor: the test proves nothing");

        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(InstallOutcome.Installed, Assert.Single(result.Adaptors).Outcome);
        Assert.True(_layout.IsInstalled(BetaAlias));
        Assert.True(Deps().ContainsKey(BetaAlias));
    }

    [Fact]
    public async Task Install_scripts_do_not_run_by_default()
    {
        await Install(Scripted);

        Assert.True(_layout.IsInstalled("@fixture/language-scripted_1.0.0"));
        Assert.False(File.Exists(Path.Combine(_layout.AdaptorDir("@fixture/language-scripted_1.0.0"), ScriptMark)));
    }

    [Fact]
    public async Task IgnoreScripts_false_lets_install_scripts_run()
    {
        var result = await Repo(_fx.Settings() with { IgnoreScripts = false }).EnsureInstalledAsync(Specs(Scripted), default);

        Assert.True(result.Succeeded, _log.Text);
        Assert.True(File.Exists(Path.Combine(_layout.AdaptorDir("@fixture/language-scripted_1.0.0"), ScriptMark)), "the script did not run: the default test proves nothing");
    }
}
