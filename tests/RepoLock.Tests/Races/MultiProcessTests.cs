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

    private ChildProcess Install(params string[] specs) => Install(_fx.NpmCache.Path, null, specs);

    private ChildProcess Install(string npmCache, StartGate? gate, params string[] specs) =>
        ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "install", Repo, _fx.Registry.Url, npmCache, "300", "4", .. specs], env: gate?.Environment);

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
        // Own npm caches: a second install would fetch the tarball again, so one request means one install. All start at once.
        var before = _fx.Registry.TarballRequests("@fixture/language-beta");
        var gate = new StartGate(_dir.Combine("go"));
        var racers = Enumerable.Range(0, 4).Select(i => Install(_dir.Combine($"npm-cache-{i}"), gate, "@fixture/language-beta@1.2.0")).ToList();
        await gate.OpenWhenAllReadyAsync(racers);

        var outputs = await ExitAll(racers);

        Assert.Equal(1, _fx.Registry.TarballRequests("@fixture/language-beta") - before);
        var outcomes = outputs.Select(o => JsonNode.Parse(o.Trim())!["outcome"]!.GetValue<string>()).ToList();
        Assert.Single(outcomes, o => o == nameof(InstallOutcome.Installed));
        Assert.Equal(3, outcomes.Count(o => o == nameof(InstallOutcome.InstalledByPeer))); // each waited on the installer's lock
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
        var gate = new StartGate(_dir.Combine("go"));
        var workers = Enumerable.Range(0, 4).Select(_ => ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "counter", target, counter, "50", "300"], env: gate.Environment)).ToList();
        await gate.OpenWhenAllReadyAsync(workers);

        var outputs = await ExitAll(workers);

        Assert.Equal("200", File.ReadAllText(counter).Trim());
        Assert.True(outputs.Sum(o => int.Parse(o.Trim().Split(' ')[1])) > 0, "no round ever found the lock held: nothing was contended");
        Assert.False(Directory.Exists(target + ".lock"));
    }

    [Fact]
    public async Task Processes_adding_to_the_manifest_behind_a_held_manifest_lock_wait_for_it_and_lose_no_entry()
    {
        var layout = new RepoLayout(Repo);
        var specs = Enumerable.Range(0, 4).Select(p => Enumerable.Range(0, 3).Select(i => $"@fixture/language-m{p}x{i}@1.0.0").ToArray()).ToList();
        var held = new LockService(new LockSettings()).StartWaiting(layout.ManifestLockTarget, "test").TryAcquire("the test holds the manifest")!;
        var adders = specs.Select(s => ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "manifest-add", Repo, .. s])).ToList();
        try
        {
            foreach (var adder in adders)
            {
                await adder.WaitForLineAsync($"process {Environment.ProcessId} (the test holds the manifest)", Limit); // blocked on the file lock
            }

            Assert.False(File.Exists(layout.ManifestPath), "a process wrote the manifest while the test held its lock");
        }
        finally
        {
            held.Dispose();
        }

        await ExitAll(adders);

        var deps = JsonNode.Parse(File.ReadAllText(layout.ManifestPath))!["dependencies"]!.AsObject();
        Assert.Equal(specs.SelectMany(s => s).Select(s => AdaptorSpecifier.Parse(s).Alias).Order(), deps.Select(d => d.Key).Order());
    }
}
