using System.Diagnostics;
using System.Text.RegularExpressions;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>9. What a waiting build asks of the file server (system calls on repo paths, by strace), and how soon it notices a release.</summary>
public static partial class QuietWaiting
{
    private const int Sentinels = 500;

    public static async Task<Section> RunAsync(BenchContext ctx)
    {
        var settings = new LockSettings();
        var smoke = ctx.Options.Smoke;
        var warmUp = TimeSpan.FromSeconds(smoke ? 1 : 5);
        var window = TimeSpan.FromSeconds(smoke ? 3 : 20);
        var steady = TimeSpan.FromSeconds(smoke ? 3 : 5); // after the waiter's first try: its first pauses are short on purpose
        var handOvers = smoke ? 1 : 7;
        var foreign = HostTools.UnshareWorks;
        var section = new Section { Id = "waiting-calls", Number = 10, Title = "A waiting build on the wire: system calls and hand-over" };
        section.Method =
            $"**System calls**: a tests/RepoLock.TestHost `hold` process holds the lock of `@fixture/language-alpha_1.0.0` ({(foreign ? "in another PID namespace, so the waiter sees a holder on another machine" : "on this machine")}); " +
            $"the scope's sentinel folder holds {Sentinels} sentinels of other versions. A TestHost `install` of the adaptor (the core a build runs) waits for it under " +
            $"`strace -f -tt -y`; every call whose path or file descriptor is in the repo is counted from {steady.TotalSeconds:0} s after its first try of the lock (its first `mkdir` there) for {window.TotalSeconds:0} s " +
            "(the steady state; reads, closes and directory reads included). Not in the window: the server-clock probe (once a minute, 6 calls) and the " +
            $"\"did the peer finish?\" listing without a change of hands (once every {LockWaiter.PeerCheckEvery.TotalSeconds:0} s, about 4 calls). " +
            $"**Hand-over**: a TestHost `hold` process holds a lock (in another PID namespace where `unshare` works, so only the release, not its exit, can tell); the bench waits for it with `LockService.AcquireAsync` (default settings: first pause " +
            $"{settings.PollInterval.TotalMilliseconds:0} ms, growing to {settings.MaxPollInterval.TotalSeconds:0} s) for {warmUp.TotalSeconds:0} s plus a random part of 2 s (so its pauses have grown, and the release falls anywhere between two tries), then tells the holder to " +
            "release; figure: ms from writing `release` to the holder to the bench holding the lock (an upper bound: it includes the holder reading the line). " +
            $"Once with the kernel's notifications (a waiter on the same machine) and once polling only (`Notifications = false`: what a waiter on another machine sees), {handOvers} times each.";
        section.Columns = ["Figure", "Value"];

        if (HostTools.Works("strace", "-qq", "-o", "/dev/null", "true"))
        {
            var (perSecond, byCall) = await CountCallsAsync(ctx, foreign, steady, window);
            section.Row("system calls on repo paths per second, waiting for a live holder", perSecond.ToString("0.00", Fmt.Inv));
            section.Row("by call, in the window", string.Join(", ", byCall.Select(kv => $"{kv.Key} {kv.Value}")));
            section.Figures.Add(new() { ["callsPerSecond"] = Fmt.R(perSecond, 2), ["windowSeconds"] = window.TotalSeconds, ["sentinels"] = Sentinels, ["foreignHolder"] = foreign });
            section.Target("system calls on repo paths while waiting (steady state)", "≤ 3 /s", $"{perSecond:0.00} /s", perSecond <= 3);
        }
        else
        {
            section.Notes.Add("strace is not installed or not allowed here (apt-get install strace; it needs ptrace): no system-call count.");
        }

        foreach (var notifications in new[] { true, false })
        {
            var times = new List<double>();
            for (var i = 0; i < handOvers; i++)
            {
                times.Add(await HandOverAsync(ctx, settings with { Notifications = notifications }, warmUp, foreign));
            }

            var p50 = Fmt.Median(times);
            var label = notifications ? "same machine (notified)" : "polling only (as from another machine)";
            section.Row($"hand-over, {label}, median", Fmt.Ms(p50));
            section.Row($"hand-over, {label}, all", string.Join(", ", times.Select(t => t.ToString("0", Fmt.Inv))) + " ms");
            section.Figures.Add(new() { ["handOverNotified"] = notifications, ["handOverMs"] = times.Select(t => Fmt.R(t, 1)).ToList(), ["medianMs"] = Fmt.R(p50, 1) });
            section.Target($"hand-over, {label}, p50", notifications ? "≤ 300 ms" : $"≤ {settings.MaxPollInterval.TotalSeconds:0} s (one poll)",
                Fmt.Ms(p50), p50 <= (notifications ? 300 : settings.MaxPollInterval.TotalMilliseconds));
        }

        return section;
    }

    private static async Task<(double PerSecond, IReadOnlyList<KeyValuePair<string, int>> ByCall)> CountCallsAsync(BenchContext ctx, bool foreign, TimeSpan warmUp, TimeSpan window)
    {
        var layout = new RepoLayout(ctx.NewFolder("quiet"));
        var scope = Path.Combine(layout.SentinelsDir, "@fixture");
        Directory.CreateDirectory(scope);
        for (var i = 0; i < Sentinels; i++)
        {
            File.WriteAllText(Path.Combine(scope, $"language-alpha_0.{i}.0.done"), "");
        }

        string[] prefix = HostTools.Elsewhere(foreign);
        string[] hold = [.. prefix, "dotnet", ctx.Paths.TestHostDll, "hold", layout.LockTarget("@fixture/language-alpha_1.0.0"), "300"];
        using var holder = ChildProcess.Start(hold[0], hold[1..]);
        await holder.WaitForLineAsync("LOCKED", TimeSpan.FromSeconds(60));
        var trace = Path.Combine(layout.Root, "..", "strace.txt");
        using (var waiter = ChildProcess.Start("strace", ["-f", "-tt", "-y", "-qq", "-o", trace, "dotnet", ctx.Paths.TestHostDll, "install", layout.Root, "-", "-", "300", "4", "@fixture/language-alpha@1.0.0"]))
        {
            await Task.Delay(warmUp + window + TimeSpan.FromSeconds(10)); // the process's start, under strace, takes seconds on a busy machine
            waiter.Kill();
        }

        await holder.StandardInput.WriteLineAsync("release");
        await holder.StandardInput.FlushAsync();
        var byCall = new Dictionary<string, int>();
        DateTime? start = null;
        foreach (var line in File.ReadLines(trace))
        {
            if (TraceLine().Match(line) is not { Success: true } m)
            {
                continue;
            }

            var at = DateTime.ParseExact(m.Groups[1].Value, "HH:mm:ss.ffffff", Fmt.Inv);
            if (start is null && m.Groups[2].Value == "mkdir" && line.Contains(".lock.lock", StringComparison.Ordinal))
            {
                start = at; // the waiter's first try: the wait begins
            }

            if (start is null)
            {
                continue;
            }

            if (at - start >= warmUp && at - start < warmUp + window && line.Contains(layout.Root, StringComparison.Ordinal) && !line.Contains("resumed>", StringComparison.Ordinal))
            {
                byCall[m.Groups[2].Value] = byCall.GetValueOrDefault(m.Groups[2].Value) + 1;
            }
        }

        return (byCall.Values.Sum() / window.TotalSeconds, byCall.OrderByDescending(kv => kv.Value).ToList());
    }

    private static async Task<double> HandOverAsync(BenchContext ctx, LockSettings settings, TimeSpan warmUp, bool foreign)
    {
        var target = new RepoLayout(ctx.NewFolder("handover")).LockTarget("@fixture/language-alpha_1.0.0");
        string[] prefix = HostTools.Elsewhere(foreign);
        string[] hold = [.. prefix, "dotnet", ctx.Paths.TestHostDll, "hold", target, "300"];
        using var holder = ChildProcess.Start(hold[0], hold[1..]); // in another PID namespace, its exit cannot tell the waiter it released
        await holder.WaitForLineAsync("LOCKED", TimeSpan.FromSeconds(60));
        var locks = new LockService(settings);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var waiter = Task.Run(() => locks.AcquireAsync(target, "hand-over bench", "hand-over bench", cts.Token));
        await Task.Delay(warmUp + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 2000))); // released at any point of the waiter's schedule
        var clock = Stopwatch.StartNew();
        await holder.StandardInput.WriteLineAsync("release");
        await holder.StandardInput.FlushAsync();
        using var held = await waiter;
        return clock.Elapsed.TotalMilliseconds;
    }

    [GeneratedRegex(@"^\d+ +(\d\d:\d\d:\d\d\.\d{6}) (?:<\.\.\. )?(\w+)")]
    private static partial Regex TraceLine();
}
