using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Bundle;

/// <summary>A bundle carries what each adaptor resolves outside its folder, as Node resolves it, and nothing else.</summary>
public class BundleClosureTests : IClassFixture<BundleFixture>, IDisposable
{
    private static readonly AdaptorSpecifier Hoisted = AdaptorSpecifier.Parse(BundleFixture.Hoisted + "@1.0.0");
    private static readonly AdaptorSpecifier Other = AdaptorSpecifier.Parse(BundleFixture.Other + "@1.0.0");

    private readonly BundleFixture _fx;
    private readonly TempDir _dir = new("closure");

    public BundleClosureTests(BundleFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_adaptor_a_Node_worker_installed_with_hoisted_dependencies_runs_from_the_extracted_bundle()
    {
        var repo = _dir.Combine("repo");
        await _fx.WorkerInstallAsync(repo, BundleFixture.Hoisted, "1.0.0");
        await _fx.WorkerInstallAsync(repo, BundleFixture.Other, "1.0.0");
        Assert.True(File.Exists(Path.Combine(repo, "node_modules", "@fixture", "dep-one", "package.json")), "npm did not hoist: the test proves nothing");
        var log = new CollectingLog();

        RepoBundle.Create(new RepoLayout(repo), [Hoisted], _dir.Combine("publish", "openfn-repo"), _dir.Combine("publish", "openfn-repo.tar.gz"), log: log);

        var image = BundleFixture.Extract(_dir.Combine("publish", "openfn-repo.tar.gz"), _dir.Combine("image", "repo"));
        var bundled = new RepoLayout(image);
        Assert.True(bundled.IsInstalled(Hoisted.Alias)); // the worker's own rule: sentinel + package.json, no npm
        Assert.True(File.Exists(Path.Combine(image, "node_modules", "@fixture", "dep-one", "package.json")));
        Assert.True(File.Exists(Path.Combine(image, "node_modules", "@fixture", "dep-two", "package.json")));
        Assert.False(Directory.Exists(Path.Combine(image, "node_modules", "@fixture", "dep-three")));
        Assert.False(Directory.Exists(bundled.AdaptorDir(Other.Alias)));
        Assert.Equal([Hoisted.Alias], JsonNode.Parse(File.ReadAllText(bundled.ManifestPath))!["dependencies"]!.AsObject().Select(d => d.Key));
        Assert.Contains(log.Lines, l => l.StartsWith($"warning {ErrorCodes.BundleNotVerified}", StringComparison.Ordinal) && l.Contains(Hoisted.ToString(), StringComparison.Ordinal));

        var state = await BundleFixture.RunJobAsync(image, BundleFixture.Hoisted, "1.0.0", "fn(state => ({ ...state, data: { dep: depName() } }));\n");

        Assert.Equal("@fixture/dep-two", state["data"]!["dep"]!.GetValue<string>());
    }

    [Fact]
    public async Task After_a_root_npm_install_dedupes_a_RepoLock_install_the_bundle_still_verifies_and_runs()
    {
        var repo = _dir.Combine("repo");
        Assert.True((await new AdaptorRepo(new RepoLayout(repo), _fx.Settings).EnsureInstalledAsync([Hoisted], default)).Succeeded);
        await _fx.WorkerInstallAsync(repo, BundleFixture.Other, "1.0.0"); // npm in the root, as a worker runs it
        await _fx.RootNpmAsync(repo, "dedupe"); // moves our adaptor's nested dependencies up to the root
        var nested = Path.Combine(repo, "node_modules", Hoisted.Alias, "node_modules", "@fixture", "dep-one");
        Assert.False(Directory.Exists(nested), "npm did not dedupe: the test proves nothing");
        var log = new CollectingLog();

        RepoBundle.Create(new RepoLayout(repo), [Hoisted], _dir.Combine("publish", "openfn-repo"), _dir.Combine("publish", "openfn-repo.tar.gz"), log: log);

        Assert.Empty(log.Lines); // verified against its install digest: no warning, no error
        var image = BundleFixture.Extract(_dir.Combine("publish", "openfn-repo.tar.gz"), _dir.Combine("image", "repo"));
        var state = await BundleFixture.RunJobAsync(image, BundleFixture.Hoisted, "1.0.0", "fn(state => ({ ...state, data: { dep: depName() } }));\n");
        Assert.Equal("@fixture/dep-two", state["data"]!["dep"]!.GetValue<string>());
    }

    [Fact]
    public void A_required_dependency_that_resolves_nowhere_is_RL6001_naming_adaptor_and_dependency_and_an_old_bundle_stays()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0", deps: """{"gone":"^1.0.0"}""");
        var dest = _dir.Combine("publish", "openfn-repo");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "old.txt"), "old");
        File.WriteAllText(dest + ".tar.gz", "old archive");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [AdaptorSpecifier.Parse("x@1.0.0")], dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleDependencyMissing, e.Code);
        Assert.Contains("'x@1.0.0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'gone'", e.Message, StringComparison.Ordinal);
        Assert.Equal(["old.txt"], Directory.GetFileSystemEntries(dest).Select(Path.GetFileName));
        Assert.Equal("old archive", File.ReadAllText(dest + ".tar.gz"));
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir.Combine("publish")).Length); // no temp folder or file left next to them
    }

    [Fact]
    public void Installed_optional_and_resolving_peer_dependencies_are_carried_and_missing_ones_are_not_errors()
    {
        var repo = new FakeRepo(_dir.Combine("repo"))
            .Adaptor("x", "1.0.0", deps: """{"a":"^1.0.0"}""", extra: """ "optionalDependencies":{"opt":"1.x","opt-missing":"*"},"peerDependencies":{"peer":">=2","peer-missing":"1"} """)
            .Package("a", "1.2.0", deps: """{"b":"~3.1.0"}""")
            .Package("b", "3.1.4", deps: """{"a":"^1.0.0"}""") // a cycle: each package once
            .Package("opt", "1.0.0").Package("peer", "2.5.0").Package("unrelated", "1.0.0");
        var dest = _dir.Combine("publish", "openfn-repo");

        RepoBundle.Create(repo.Layout, [AdaptorSpecifier.Parse("x@1.0.0")], dest, null);

        Assert.Equal(["a", "b", "opt", "peer", "x_1.0.0"], Directory.GetDirectories(Path.Combine(dest, "node_modules")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_hoisted_package_whose_version_does_not_fit_the_adaptors_range_is_RL6002()
    {
        var repo = new FakeRepo(_dir.Combine("repo"))
            .Adaptor("x", "1.0.0", deps: """{"shared":"^1.0.0"}""")
            .Package("shared", "2.0.0");
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [AdaptorSpecifier.Parse("x@1.0.0")], dest, null));

        Assert.Equal(ErrorCodes.BundleVersionConflict, e.Code);
        Assert.Contains("shared@2.0.0", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dest));
    }

    [Fact]
    public void A_dependency_reached_through_a_link_that_leaves_the_repo_is_RL6008_and_nothing_is_written()
    {
        var outside = new FakeRepo(_dir.Combine("elsewhere")).Package("a", "1.0.0");
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0", deps: """{"a":"^1.0.0"}""");
        Directory.CreateSymbolicLink(Path.Combine(repo.Layout.NodeModules, "a"), Path.Combine(outside.Layout.NodeModules, "a"));
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [AdaptorSpecifier.Parse("x@1.0.0")], dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleOutsideRepo, e.Code);
        Assert.False(Directory.Exists(_dir.Combine("publish")));
    }

    [Fact]
    public void A_package_nested_in_another_copied_package_is_copied_once_with_it_even_when_a_sibling_sorts_between_them()
    {
        var root = Path.Combine("/r", "node_modules");

        var outermost = RepoLock.Core.Bundle.DependencyClosure.Outermost(
            [Path.Combine(root, "parse5", "node_modules", "entities"), Path.Combine(root, "parse5-adapter"), Path.Combine(root, "parse5")]);

        Assert.Equal([Path.Combine(root, "parse5"), Path.Combine(root, "parse5-adapter")], outermost);
    }

    [Theory]
    [InlineData("^1.2.0", "1.9.9", true)]
    [InlineData("^1.2.0", "2.0.0", false)]
    [InlineData("^0.2.3", "0.2.9", true)]
    [InlineData("^0.2.3", "0.3.0", false)]
    [InlineData("~1.2", "1.2.7", true)]
    [InlineData("~1.2.3", "1.3.0", false)]
    [InlineData("1.x", "1.4.0", true)]
    [InlineData(">=1.0.0 <2", "1.5.0", true)]
    [InlineData(">= 1.0.0 < 2", "2.0.0", false)]
    [InlineData("1.2.3 - 2.3", "2.3.9", true)]
    [InlineData("1 || ^3.0.0", "3.1.0", true)]
    [InlineData("1 || ^3.0.0", "2.0.0", false)]
    [InlineData("*", "9.9.9", true)]
    [InlineData("", "1.0.0", true)]
    [InlineData("latest", "1.0.0", null)]
    [InlineData("npm:other@^1.0.0", "1.0.0", null)]
    [InlineData("^1.0.0", "1.1.0-beta.1", null)]
    public void Npm_ranges_are_understood_or_left_alone(string range, string version, bool? satisfied) =>
        Assert.Equal(satisfied, RepoLock.Core.Bundle.NpmRange.Satisfies(range, version));
}
