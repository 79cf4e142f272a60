using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Install;

namespace RepoLock.Tests.Races;

/// <summary>Separate processes (the TestHost driving the core) racing on one real directory.</summary>
public class MultiProcessTests : IClassFixture<InstallFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("race");

    public MultiProcessTests(InstallFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    private string Repo => _dir.Combine("repo");

    private ChildProcess Install(params string[] specs) =>
        ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "install", Repo, _fx.Registry.Url, _fx.NpmCache.Path, "300", "4", .. specs]);

    private static async Task<List<string>> ExitAll(IEnumerable<ChildProcess> children)
    {
        var list = children.ToList();
        try
        {
            foreach (var c in list)
            {
                Assert.True(await c.WaitForExitAsync(Limit) == 0, c.Output);
            }

            return list.Select(c => c.Stdout).ToList();
        }
        finally
        {
            list.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Processes_racing_for_one_alias_all_succeed_and_it_installs_once()
    {
        var before = _fx.Registry.TarballRequests("@fixture/language-beta");

        var outputs = await ExitAll(Enumerable.Range(0, 4).Select(_ => Install("@fixture/language-beta@1.2.0")));

        Assert.Equal(1, _fx.Registry.TarballRequests("@fixture/language-beta") - before);
        var outcomes = outputs.Select(o => JsonNode.Parse(o.Trim())!["outcome"]!.GetValue<string>()).ToList();
        Assert.Single(outcomes, o => o == nameof(InstallOutcome.Installed));
        Assert.Equal(3, outcomes.Count(o => o == nameof(InstallOutcome.InstalledByPeer)));
        Assert.True(new RepoLayout(Repo).IsInstalled("@fixture/language-beta_1.2.0"));
    }

    [Fact]
    public async Task Processes_installing_different_aliases_all_land_and_nothing_is_pruned()
    {
        var specs = Enumerable.Range(0, 4).Select(i => $"@fixture/language-p{i}@1.0.0").ToArray();

        await ExitAll(specs.Select(s => Install(s)));
        await ExitAll([Install("@fixture/language-alpha@1.0.0")]); // a later install must not prune the others

        var layout = new RepoLayout(Repo);
        var deps = JsonNode.Parse(File.ReadAllText(layout.ManifestPath))!["dependencies"]!.AsObject();
        Assert.Equal(5, deps.Count);
        foreach (var spec in specs.Append("@fixture/language-alpha@1.0.0").Select(s => AdaptorSpecifier.Parse(s)))
        {
            Assert.True(layout.IsInstalled(spec.Alias), spec.Alias);
            Assert.Equal(RepoManifest.EntryValue(spec), deps[spec.Alias]!.GetValue<string>());
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(layout.StagingDir));
    }

    [Fact]
    public async Task A_counter_updated_under_the_lock_by_several_processes_loses_no_update()
    {
        var target = _dir.Combine(".locks", "counter.lock");
        var counter = _dir.Combine("counter.txt");

        await ExitAll(Enumerable.Range(0, 4).Select(_ => ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "counter", target, counter, "50", "300"])));

        Assert.Equal("200", File.ReadAllText(counter).Trim());
        Assert.False(Directory.Exists(target + ".lock"));
    }
}
