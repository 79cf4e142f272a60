using System.Diagnostics;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>
/// The floor a shared-repo cold start is held to: the same K processes and the same npm work (one install per fixture adaptor), with
/// nothing shared. Process i installs the adaptors j with j mod K = i into a repo of its own, so at K = 4 each installs one, and at
/// K = 8 four install one each and four have nothing to install (a repo where everything is installed), as in the shared run, where
/// four installs happen whatever K is. No process ever waits for another.
/// </summary>
public static class CoordinationFreeFloor
{
    /// <param name="start">Starts process i on a repo with a npm cache, wanting the given adaptors.</param>
    public static async Task<RaceRun> RaceAsync(BenchContext ctx, string driver, int k, string installedRepo,
        Func<int, string, string, IReadOnlyList<AdaptorSpecifier>, ChildProcess> start)
    {
        var runDir = ctx.NewFolder($"floor-{driver.Replace(' ', '-')}-k{k}");
        var adaptors = Fixtures.Adaptors;
        var shares = Enumerable.Range(0, k).Select(i => adaptors.Where((_, j) => j % k == i).ToList()).ToList();
        var (results, wall, cpu, downloads) = await ColdStart.RunAllAsync(ctx, runDir, adaptors, () => Enumerable.Range(0, k).Select(i => shares[i].Count > 0
            ? start(i, Path.Combine(runDir, $"repo-{i}"), Path.Combine(runDir, $"npm-cache-{i}"), shares[i])
            : start(i, installedRepo, Path.Combine(runDir, $"npm-cache-{i}"), adaptors)).ToList());
        var states = shares.Select((share, i) => share.Count > 0 ? Fixtures.Inspect(Path.Combine(runDir, $"repo-{i}"), share) : null).OfType<RepoState>().ToList();
        var state = new RepoState(states.SelectMany(s => s.NotInManifest).ToList(), states.SelectMany(s => s.NotInNodeModules).ToList(),
            states.SelectMany(s => s.NoSentinel).ToList());
        return new RaceRun(driver, k, adaptors.Count, wall, results.Count(r => r.ExitCode != 0), downloads, state, null, results) { CpuSeconds = cpu };
    }
}
