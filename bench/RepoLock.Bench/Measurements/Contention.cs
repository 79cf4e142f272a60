using System.Diagnostics;
using System.Text.Json;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>7. N processes each take one lock R times and increment a shared counter file under it.</summary>
public static class Contention
{
    public static async Task<Section> RunAsync(BenchContext ctx)
    {
        var size = ctx.Size;
        var n = size.ContentionProcesses;
        var rounds = size.ContentionRounds;
        var section = new Section { Id = "contention", Number = 7, Title = $"Contention: {n} processes × {rounds} acquisitions of one lock" };
        section.Method =
            $"{n} child processes of the bench (`child-counter`, the TestHost `counter` verb plus timing) start, report ready, and on a common go each loop {rounds} times: " +
            "`LockService.AcquireAsync` on one target, read the counter file, write it + 1, release. Wall = go to the last process's last release. " +
            "Longest wait = the longest single AcquireAsync. Run once with the product's default poll interval and once with the 5 ms the TestHost's counter uses.";
        section.Columns = ["Poll interval", "Acquisitions", "Wall", "Acquisitions / s", "Mean wait", "Longest wait", "Counter at end"];
        foreach (var pollMs in size.ContentionPollMs)
        {
            var dir = ctx.NewFolder($"contention-{pollMs}ms");
            var target = Path.Combine(dir, ".locks", "counter.lock");
            var counter = Path.Combine(dir, "counter.txt");
            var procs = Enumerable.Range(0, n)
                .Select(_ => ChildProcess.Start("dotnet", [ctx.Paths.BenchDll, "child-counter", target, counter, rounds.ToString(Fmt.Inv), pollMs.ToString(Fmt.Inv)]))
                .ToList();
            try
            {
                foreach (var p in procs)
                {
                    await p.WaitForLineAsync("READY", TimeSpan.FromSeconds(60));
                }

                var go = Stopwatch.GetTimestamp();
                foreach (var p in procs)
                {
                    p.WriteLine("go");
                }

                var results = await Task.WhenAll(procs.Select(p => p.WaitAsync(TimeSpan.FromMinutes(5))));
                if (results.FirstOrDefault(r => r.ExitCode != 0) is { } failed)
                {
                    section.Errors.Add($"poll {pollMs} ms: a counter process failed (exit {failed.ExitCode}): {failed.Tail(10)}");
                    continue;
                }

                var stats = results.Select(r => JsonSerializer.Deserialize<CounterStats>(r.Stdout.Split('\n').Last(l => l.StartsWith('{')))!).ToList();
                var wall = Stopwatch.GetElapsedTime(go, stats.Max(s => s.EndTimestamp)).TotalSeconds;
                var total = stats.Sum(s => s.Rounds);
                var final = int.Parse(File.ReadAllText(counter).Trim(), Fmt.Inv);
                var longest = stats.Max(s => s.MaxWaitMs);
                var mean = stats.Sum(s => s.TotalWaitMs) / total;
                section.Row($"{pollMs} ms{(pollMs == (int)new LockSettings().PollInterval.TotalMilliseconds ? " (default)" : "")}", total.ToString(Fmt.Inv), Fmt.S(wall),
                    Fmt.N(total / wall, "0"), Fmt.Ms(mean), Fmt.Ms(longest), $"{final} of {n * rounds}");
                section.Figures.Add(new()
                {
                    ["processes"] = n,
                    ["rounds"] = rounds,
                    ["pollIntervalMs"] = pollMs,
                    ["wallSeconds"] = Fmt.R(wall),
                    ["acquisitionsPerSecond"] = Fmt.R(total / wall, 1),
                    ["meanWaitMs"] = Fmt.R(mean, 2),
                    ["longestWaitMs"] = Fmt.R(longest, 1),
                    ["perProcessLongestWaitMs"] = stats.Select(s => Fmt.R(s.MaxWaitMs, 1)).ToList(),
                    ["counter"] = final,
                    ["expected"] = n * rounds,
                });
                ctx.Progress($"contention, poll {pollMs} ms: {total / wall:0} acquisitions/s, longest wait {longest:0} ms, counter {final}");
                if (final != n * rounds)
                {
                    section.Errors.Add($"poll {pollMs} ms: the counter ended at {final}, not {n * rounds}: the lock let two holders in");
                }

                section.Target($"contention, poll {pollMs} ms: counter (correctness check)", $"= {n * rounds}", final.ToString(Fmt.Inv), final == n * rounds);
            }
            finally
            {
                foreach (var p in procs)
                {
                    p.Dispose();
                }
            }
        }

        return section;
    }

    public sealed record CounterStats(int Rounds, double MaxWaitMs, double TotalWaitMs, long EndTimestamp);

    /// <summary>The worker: <c>child-counter &lt;target&gt; &lt;counterFile&gt; &lt;rounds&gt; &lt;pollMs&gt;</c>. Prints READY, waits for a line on stdin, loops, prints its stats.</summary>
    public static async Task<int> WorkerAsync(string[] args)
    {
        var (target, counter, rounds, pollMs) = (args[0], args[1], int.Parse(args[2], Fmt.Inv), int.Parse(args[3], Fmt.Inv));
        var locks = new LockService(new LockSettings { PollInterval = TimeSpan.FromMilliseconds(pollMs), Timeout = TimeSpan.FromMinutes(5) });
        LockService.LockDirFor(target); // create the target file before the clock starts, as every build's first call would
        Console.WriteLine("READY");
        Console.Out.Flush();
        Console.ReadLine();
        double maxWait = 0, totalWait = 0;
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var held = await locks.AcquireAsync(target, "counter", "counter", CancellationToken.None);
            var waited = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            maxWait = Math.Max(maxWait, waited);
            totalWait += waited;
            var text = File.Exists(counter) ? File.ReadAllText(counter).Trim() : "";
            File.WriteAllText(counter, ((text.Length > 0 ? int.Parse(text, Fmt.Inv) : 0) + 1).ToString(Fmt.Inv));
        }

        Console.WriteLine(JsonSerializer.Serialize(new CounterStats(rounds, maxWait, totalWait, Stopwatch.GetTimestamp())));
        return 0;
    }
}
