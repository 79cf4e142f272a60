using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>2. What RepoLock adds to a no-op <c>dotnet build --no-restore</c> when every adaptor is already installed.</summary>
public static class NoOpBuild
{
    /// <summary>A repo with the four fixture adaptors installed for real (npm through the fake registry, no latency), through the core.</summary>
    public static async Task<string> InstalledRepoAsync(BenchContext ctx)
    {
        var repo = ctx.NewFolder("installed-repo");
        var before = ctx.Registry.TarballLatency;
        ctx.Registry.TarballLatency = TimeSpan.Zero;
        try
        {
            var settings = new RepoLockSettings { CreateRepoDir = true, Registry = ctx.Registry.Url, NpmCacheDir = ctx.NewFolder("npm-cache-setup") };
            var result = await new AdaptorRepo(new RepoLayout(repo), settings).EnsureInstalledAsync(Fixtures.Adaptors, CancellationToken.None);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException("installing the fixture adaptors failed: " + string.Join("; ", result.Failures.Select(f => $"{f.Code} {f.Message}")));
            }
        }
        finally
        {
            ctx.Registry.TarballLatency = before;
        }

        return repo;
    }

    public static async Task<Section> RunAsync(BenchContext ctx, BuildFixture fixture, string installedRepo)
    {
        var section = new Section { Id = "noop-build", Number = 2, Title = "No-op build overhead (dotnet build --no-restore, all adaptors installed)" };
        var pairs = ctx.Size.NoOpPairs;
        section.Method = $"A generated sample-like project (Microsoft.Build.NoTargets/{ctx.Paths.NoTargetsVersion} importing build/RepoLock.Tasks.props and .targets, " +
                         $"`RepoLockTaskAssembly` = the freshly built dll, {Fixtures.Adaptors.Count} `Adaptor` items, all installed in its `AdaptorRepoDir`) built with " +
                         "`dotnet build --no-restore -v:m -tl:off -nodeReuse:false` as a new process each time. A = `-p:RepoLockEnabled=true`, B = `-p:RepoLockEnabled=false`. " +
                         $"After one untimed A and B, runs alternate A/B/A/B ({pairs} of each); the figure is the median of the per-pair differences A − B, in wall time and in the " +
                         "CPU time of the build process tree (less moved by other tenants than wall time). " +
                         (ctx.Size.NoOpSummaryBuilds > 0
                             ? $"{ctx.Size.NoOpSummaryBuilds} more A builds with `-clp:PerformanceSummary` give the time MSBuild itself books to the EnsureAdaptorsInstalled target " +
                               "(task assembly load, specifier parsing, the cache-hit check, logging)."
                             : "");
        var cache = ctx.NewFolder("npm-cache-noop");

        double? lastCpu = null;
        async Task<ChildProcessResult> Build(bool enabled, bool summary = false)
        {
            var cpuBefore = ChildCpu.Seconds();
            using var proc = fixture.StartBuild(0, enabled, installedRepo, cache, performanceSummary: summary);
            var result = await proc.WaitAsync(TimeSpan.FromMinutes(3));
            lastCpu = (ChildCpu.Seconds() - cpuBefore) * 1000;
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"no-op build (RepoLockEnabled={enabled}) failed (exit {result.ExitCode}):\n{result.Tail(30)}");
            }

            if (enabled && BuildFixture.ParseSummary(result.Output) is not (Fixtures.AdaptorCount, 0, 0))
            {
                throw new InvalidOperationException($"the no-op build did not report {Fixtures.AdaptorCount} adaptors already installed:\n{result.Tail(30)}");
            }

            return result;
        }

        ctx.Progress("no-op builds: one untimed A and B");
        await Build(true);
        await Build(false);
        var a = new List<double>();
        var b = new List<double>();
        var aCpu = new List<double>();
        var bCpu = new List<double>();
        for (var i = 0; i < pairs; i++)
        {
            a.Add((await Build(true)).Elapsed.TotalMilliseconds);
            aCpu.Add(lastCpu ?? double.NaN);
            b.Add((await Build(false)).Elapsed.TotalMilliseconds);
            bCpu.Add(lastCpu ?? double.NaN);
            ctx.Progress($"no-op builds: pair {i + 1}/{pairs}: A {a[^1]:0} ms, B {b[^1]:0} ms");
        }

        var targetMs = new List<double>();
        for (var i = 0; i < ctx.Size.NoOpSummaryBuilds; i++)
        {
            if (BuildFixture.ParseTargetMs((await Build(true, summary: true)).Output) is { } ms)
            {
                targetMs.Add(ms);
            }
        }

        var diffs = a.Zip(b, (x, y) => x - y).ToList();
        var medianDiff = Fmt.Median(diffs);
        var cpuDiff = Fmt.Median(aCpu.Zip(bCpu, (x, y) => x - y));
        section.Columns = ["Figure", "Value"];
        section.Row("A (RepoLock on) median wall", Fmt.Ms(Fmt.Median(a)));
        section.Row("B (RepoLockEnabled=false) median wall", Fmt.Ms(Fmt.Median(b)));
        section.Row("median of per-pair differences A − B", Fmt.Ms(medianDiff));
        section.Row("difference of medians", Fmt.Ms(Fmt.Median(a) - Fmt.Median(b)));
        section.Row("per-pair differences", string.Join(", ", diffs.Select(d => d.ToString("0", Fmt.Inv))) + " ms");
        section.Row("CPU per build (user + system), A / B median", $"{Fmt.Ms(Fmt.Median(aCpu))} / {Fmt.Ms(Fmt.Median(bCpu))}");
        section.Row("CPU: median of per-pair differences A − B", Fmt.Ms(cpuDiff));
        if (targetMs.Count > 0)
        {
            section.Row("EnsureAdaptorsInstalled target (MSBuild performance summary), median", Fmt.Ms(Fmt.Median(targetMs)));
        }

        section.Figures.Add(new()
        {
            ["pairs"] = pairs,
            ["aMs"] = a.Select(x => Fmt.R(x, 1)).ToList(),
            ["bMs"] = b.Select(x => Fmt.R(x, 1)).ToList(),
            ["medianAMs"] = Fmt.R(Fmt.Median(a), 1),
            ["medianBMs"] = Fmt.R(Fmt.Median(b), 1),
            ["medianPairDifferenceMs"] = Fmt.R(medianDiff, 1),
            ["aCpuMs"] = aCpu.Select(x => Fmt.R(x, 0)).ToList(),
            ["bCpuMs"] = bCpu.Select(x => Fmt.R(x, 0)).ToList(),
            ["medianPairCpuDifferenceMs"] = Fmt.R(cpuDiff, 1),
            ["targetMsFromPerformanceSummary"] = targetMs.Count > 0 ? Fmt.R(Fmt.Median(targetMs), 1) : null,
        });
        var target = targetMs.Count > 0 ? Fmt.Median(targetMs) : (double?)null;
        section.Target("no-op build added by RepoLock (wall, median of A − B)", "< 100 ms",
            $"{Fmt.Ms(medianDiff)} (CPU {Fmt.Ms(cpuDiff)}{(target is { } t ? $", target {Fmt.Ms(t)}" : "")})", medianDiff < 100,
            medianDiff >= 100 && target < 100 ? $"MSBuild books {Fmt.Ms(target!.Value)} to the target and the builds' CPU differs by {Fmt.Ms(cpuDiff)}: the rest is the shared machine's noise" : null);
        return section;
    }
}
