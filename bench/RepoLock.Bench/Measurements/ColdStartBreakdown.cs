using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using RepoLock.Bench.Infrastructure;

namespace RepoLock.Bench.Measurements;

/// <summary>
/// Where a shared cold start's time goes beyond the coordination-free floor, read off the processes' timelines (item 3 of issue 18):
/// when the last install finished, how long the waiters took after it (hand-over), the waits for the repo manifest's lock, and CPU.
/// </summary>
public static partial class ColdStartBreakdown
{
    /// <summary>One run, in seconds from its first process's start: the last "installed" line, the slowest process's summary after it, manifest-lock waits.</summary>
    public sealed record Parts(double Wall, double LastInstalled, double HandOver, int ManifestWaits, double ManifestWaitSeconds, double? Cpu);

    public static Parts Of(RaceRun run)
    {
        var first = run.Results.Min(r => r.StartTimestamp);
        double At(ChildProcessResult r, double ms) => Stopwatch.GetElapsedTime(first, r.StartTimestamp).TotalSeconds + (ms / 1000);
        var installed = new List<double>();
        var summaries = new List<double>();
        var waits = new List<double>();
        foreach (var r in run.Results)
        {
            foreach (Match m in TimelineLine().Matches(r.Timeline))
            {
                var at = At(r, double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
                var text = m.Groups[2].Value;
                if (text.Contains("RepoLock: installed ", StringComparison.Ordinal))
                {
                    installed.Add(at);
                }
                else if (text.Contains(" adaptor(s) in ", StringComparison.Ordinal))
                {
                    summaries.Add(at);
                }
                else if (ManifestWait().Match(text) is { Success: true } w)
                {
                    waits.Add(double.Parse(w.Groups[1].Value, CultureInfo.InvariantCulture) / 1000);
                }
            }
        }

        var last = installed.DefaultIfEmpty(0).Max();
        return new Parts(run.WallSeconds, last, Math.Max(0, summaries.DefaultIfEmpty(last).Max() - last), waits.Count, waits.Sum(), run.CpuSeconds);
    }

    /// <summary>A note comparing the shared runs with the coordination-free runs of the same K, by the medians of each part.</summary>
    public static string Note(string driver, int k, IReadOnlyList<RaceRun> shared, IReadOnlyList<RaceRun> free)
    {
        var s = shared.Select(Of).ToList();
        var f = free.Select(Of).ToList();
        double M(IEnumerable<Parts> parts, Func<Parts, double> part) => Fmt.Median(parts.Select(part));
        var cpuS = Fmt.MedianKnown(s.Select(p => p.Cpu));
        var cpuF = Fmt.MedianKnown(f.Select(p => p.Cpu));
        var cpu = cpuS is { } a && cpuF is { } b ? $"CPU {Fmt.S(a)} against {Fmt.S(b)} (+{Fmt.S(a - b)}, {Fmt.S((a - b) / Environment.ProcessorCount)} of wall on {Environment.ProcessorCount} cores if nothing else ran)" : "CPU not readable";
        return $"Breakdown ({driver}, K={k}, medians of {shared.Count} shared and {free.Count} coordination-free runs, from the processes' timelines): " +
               $"wall {Fmt.S(M(s, p => p.Wall))} against {Fmt.S(M(f, p => p.Wall))} (+{Fmt.S(M(s, p => p.Wall) - M(f, p => p.Wall))}); " +
               $"the last install finished at {Fmt.S(M(s, p => p.LastInstalled))} against {Fmt.S(M(f, p => p.LastInstalled))} " +
               $"(npm under contention, lock and manifest waits before it); the slowest process's summary came {Fmt.Ms(M(s, p => p.HandOver) * 1000)} after it " +
               $"against {Fmt.Ms(M(f, p => p.HandOver) * 1000)} (hand-over to the waiters); waits for the repo manifest's lock: {M(s, p => p.ManifestWaits):0} per run, " +
               $"{Fmt.Ms(M(s, p => p.ManifestWaitSeconds) * 1000)} in all; {cpu}. The digest is taken under the adaptor's lock in both runs (measurement 9 gives its cost).";
    }

    [GeneratedRegex(@"^\[\s*(\d+) ms\] (.*)$", RegexOptions.Multiline)]
    private static partial Regex TimelineLine();

    [GeneratedRegex(@"RepoLock: the repo manifest: waited (\d+) ms for its lock")]
    private static partial Regex ManifestWait();
}
