using System.Globalization;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>8. What a build costs in CPU when all it does is wait for a peer and then find the adaptor installed, next to a no-op build.</summary>
public static class WaitingCpu
{
    public static async Task<Section> RunAsync(BenchContext ctx, BuildFixture fixture, string installedRepo)
    {
        var size = ctx.Size;
        var adaptor = Fixtures.Adaptors[0];
        var layout = new RepoLayout(installedRepo);
        var section = new Section { Id = "waiting-cpu", Number = 8, Title = "CPU of a build that only waits for a peer" };
        section.Method =
            $"The no-op build's project (copy 0) with one `Adaptor` ({adaptor}). A (waiting): the adaptor's sentinel is taken away, a tests/RepoLock.TestHost `hold` " +
            $"process holds the adaptor's lock, the build is started and waits; {size.WaitingSeconds:0.#} s later the sentinel is put back (the peer's install finishing) " +
            "and the holder releases, so the build takes the lock, finds the adaptor installed and reports it installed by a peer. B (no-op): the same build with " +
            $"the adaptor installed. A/B alternate ({size.WaitingPairs} pairs after one untimed pair). CPU = user + system of the build's process tree from the bench's " +
            "reaped-children counters, less the holder's own CPU (read from /proc just before it releases). Figure: median of per-pair differences A − B.";
        section.Columns = ["Figure", "Value"];
        var cache = ctx.NewFolder("npm-cache-waiting");
        var sentinel = layout.SentinelPath(adaptor.Alias);
        var sentinelBytes = File.ReadAllBytes(sentinel);

        async Task<double> Waiting()
        {
            File.Delete(sentinel);
            var cpuBefore = ChildCpu.Seconds();
            double holderCpu;
            ChildProcessResult result;
            using (var holder = ChildProcess.Start("dotnet", [ctx.Paths.TestHostDll, "hold", layout.LockTarget(adaptor.Alias), "300"]))
            {
                await holder.WaitForLineAsync("LOCKED", TimeSpan.FromSeconds(60));
                using var build = fixture.StartBuild(0, true, installedRepo, cache, [adaptor]);
                await Task.Delay(TimeSpan.FromSeconds(size.WaitingSeconds));
                if (build.HasExited)
                {
                    throw new InvalidOperationException($"the build did not wait for the holder:\n{build.Output}");
                }

                File.WriteAllBytes(sentinel, sentinelBytes);
                holderCpu = ProcessCpuSeconds(holder.Id);
                holder.WriteLine("release");
                await holder.WaitForLineAsync("RELEASED", TimeSpan.FromSeconds(60));
                result = await build.WaitAsync(TimeSpan.FromMinutes(3));
                await holder.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }

            if (result.ExitCode != 0 || BuildFixture.ParseSummary(result.Output) is not (0, 0, 1))
            {
                throw new InvalidOperationException($"the waiting build did not report the adaptor installed by a peer (exit {result.ExitCode}):\n{result.Tail(30)}");
            }

            return (ChildCpu.Seconds() - cpuBefore ?? double.NaN) - holderCpu;
        }

        async Task<double> NoOp()
        {
            var cpuBefore = ChildCpu.Seconds();
            using var build = fixture.StartBuild(0, true, installedRepo, cache, [adaptor]);
            var result = await build.WaitAsync(TimeSpan.FromMinutes(3));
            if (result.ExitCode != 0 || BuildFixture.ParseSummary(result.Output) is not (1, 0, 0))
            {
                throw new InvalidOperationException($"the no-op build did not report the adaptor already installed (exit {result.ExitCode}):\n{result.Tail(30)}");
            }

            return ChildCpu.Seconds() - cpuBefore ?? double.NaN;
        }

        ctx.Progress("waiting builds: one untimed pair");
        await Waiting();
        await NoOp();
        var a = new List<double>();
        var b = new List<double>();
        for (var i = 0; i < size.WaitingPairs; i++)
        {
            a.Add(await Waiting());
            b.Add(await NoOp());
            ctx.Progress($"waiting builds: pair {i + 1}/{size.WaitingPairs}: CPU waiting {a[^1]:0.00} s, no-op {b[^1]:0.00} s");
        }

        var diffs = a.Zip(b, (x, y) => x - y).ToList();
        var median = Fmt.Median(diffs);
        section.Row("CPU of a waiting build, median", Fmt.S(Fmt.Median(a)));
        section.Row("CPU of a no-op build, median", Fmt.S(Fmt.Median(b)));
        section.Row("median of per-pair differences (waiting − no-op)", Fmt.S(median));
        section.Row("per-pair differences", string.Join(", ", diffs.Select(d => d.ToString("0.00", Fmt.Inv))) + " s");
        section.Figures.Add(new()
        {
            ["waitSeconds"] = size.WaitingSeconds,
            ["waitingCpuSeconds"] = a.Select(x => Fmt.R(x, 2)).ToList(),
            ["noOpCpuSeconds"] = b.Select(x => Fmt.R(x, 2)).ToList(),
            ["medianPairDifferenceSeconds"] = Fmt.R(median, 3),
        });
        section.Target("CPU a waiting build adds to a no-op build (median of A − B)", "≤ 0.2 s", Fmt.S(median), median <= 0.2);
        return section;
    }

    /// <summary>User + system CPU of a running process (all its threads so far), from /proc/&lt;pid&gt;/stat; 0 where that cannot be read.</summary>
    internal static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the comm field: utime (14) and stime (15) are at indexes 11 and 12, in USER_HZ (100).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
