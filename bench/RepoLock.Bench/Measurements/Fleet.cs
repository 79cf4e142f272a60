using System.Diagnostics;
using System.Text.RegularExpressions;
using RepoLock.Bench.Infrastructure;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Bench.Measurements;

/// <summary>
/// 11. A fleet on one export: N processes waiting for one adaptor across the two sshfs mounts of one folder while a holder elsewhere installs
/// it; what the file server receives (counted in its own request log), the waiters' CPU, and how soon each notices the holder's release.
/// </summary>
public static partial class Fleet
{
    private const int Sentinels = 500;

    public static async Task<Section> RunAsync(BenchContext ctx)
    {
        var size = ctx.Size;
        var settings = new LockSettings();
        var foreign = HostTools.UnshareWorks;
        var section = new Section { Id = "fleet", Number = 11, Title = "A fleet on one export: N waiters across two sshfs mounts" };
        section.Method =
            "One folder is exported by sshd on 127.0.0.1 and mounted twice with sshfs (the tests' `SshfsPair`: two clients with their own caches, " +
            $"`dcache_timeout={SshfsPair.CacheSeconds}`, kernel defaults otherwise); each mount's file server is OpenSSH's `sftp-server -l DEBUG3`, whose log has one line per request " +
            "received: the figures are counted there, where a file server would count them. " +
            $"A holder (TestHost `install`{(foreign ? ", in another PID namespace: to the waiters a holder on another machine, judged by its lease" : "")}) installs " +
            $"`{Fixtures.Adaptors[0]}` into the folder itself; the fake registry holds its tarball, so it holds the adaptor's lock for as long as the measurement needs. " +
            $"N TestHost `install` processes of the same adaptor (the core a build runs), half on each mount, are started on a common go once all are up (the scope's sentinel folder " +
            $"holds {Sentinels} sentinels of other versions). From {size.FleetWarmUp.TotalSeconds:0} s after the go (their pauses have grown to the cap) for {size.FleetWindow.TotalSeconds:0} s: " +
            "requests both servers received, user + system CPU of the waiters and of the two `sftp-server` processes (/proc). Then the tarball is released: the holder finishes " +
            "and releases its lock; hand-over = from the lock's release (seen by the bench on the server's folder through inotify) to each waiter printing its outcome. " +
            "Every waiter must report the adaptor installed by a peer, and the adaptor must be downloaded once. " +
            $"The hand-over of a row is one release; the row \"hand-over only\" repeats it {size.FleetHandOvers} times with N = {size.FleetNs[0]} (no counting window; released {size.FleetWarmUp.TotalSeconds:0}–{size.FleetWarmUp.TotalSeconds + 2:0} s after the go). " +
            "The last row repeats the middle N on a second pair mounted with `cache=no` (sshfs's own cache of attributes and listings off): what the client's cache is worth.";
        section.Columns = ["N waiters", "Requests/s at the server", "Per waiter", "By request (window)", "Server CPU", "Waiting CPU per waiter", "Hand-over p50", "p90", "max", "Requests during hand-over"];

        using (var pair = new SshfsPair(null, logRequests: true))
        {
            if (pair.SkipReason is { } why)
            {
                section.Notes.Add($"Not measured here: {why}");
                return section;
            }

            foreach (var n in size.FleetNs)
            {
                await MeasureAsync(pair, n, n.ToString(Fmt.Inv), "");
            }

            // Each row above is one release, and all its waiters see it through the same client caches: one event. The hand-over's
            // figure comes from several releases, each at a random point of the waiters' schedule and of the caches' lifetimes.
            var n0 = size.FleetNs[0];
            var handOvers = new List<double>();
            var events = new List<double>();
            for (var e = 0; e < size.FleetHandOvers; e++)
            {
                if (await RunOneAsync(ctx, pair, n0, foreign, section, TimeSpan.Zero) is { } h)
                {
                    handOvers.AddRange(h.HandOverMs);
                    events.Add(h.HandOverMs.Median());
                }
            }

            if (handOvers.Count > 0)
            {
                ctx.Progress($"fleet hand-over, N={n0} × {events.Count} releases: p50 {handOvers.Median():0} ms, p90 {Percentile(handOvers, 0.9):0} ms");
                section.Row($"{n0} × {events.Count} releases (hand-over only)", "", "", "", "", "", Fmt.Ms(handOvers.Median()), Fmt.Ms(Percentile(handOvers, 0.9)), Fmt.Ms(handOvers.Max()), "");
                section.Figures.Add(new() { ["waiters"] = n0, ["releases"] = events.Count, ["handOverMs"] = handOvers.Select(t => Fmt.R(t, 0)).ToList(), ["medianPerRelease"] = events.Select(t => Fmt.R(t, 0)).ToList() });
                section.Target($"fleet hand-over, N={n0} × {events.Count} releases, p50 (waiters on other clients than the holder)", $"≤ {settings.MaxPollInterval.TotalSeconds:0} s (one poll)",
                    Fmt.Ms(handOvers.Median()), handOvers.Median() <= settings.MaxPollInterval.TotalMilliseconds,
                    $"includes the client's cache: sshfs serves listings and attributes up to {SshfsPair.CacheSeconds} s old (dcache_timeout), the kernel 1 s more; medians per release: " +
                    string.Join(", ", events.Select(t => t.ToString("0", Fmt.Inv))) + " ms");
            }
        }

        // The mount option that matters most for the hand-over: the client's own cache of listings and attributes (sshfs's dcache, like
        // NFS's acdirmin/acdirmax). Off, every lookup and listing goes to the server: faster hand-over, more requests.
        var nOff = size.FleetNs[size.FleetNs.Length / 2];
        using (var uncached = new SshfsPair(null, logRequests: true, bothOptions: "cache=no"))
        {
            await MeasureAsync(uncached, nOff, $"{nOff}, sshfs `cache=no`", " (sshfs cache=no)");
        }

        async Task MeasureAsync(SshfsPair pair, int n, string label, string variant)
        {
            var r = await RunOneAsync(ctx, pair, n, foreign, section, size.FleetWindow);
            if (r is null)
            {
                return;
            }

            ctx.Progress($"fleet N={n}{variant}: {r.PerSecond:0.0} requests/s at the server ({r.PerSecond / n:0.00} per waiter), hand-over p50 {r.HandOverMs.Median():0} ms, max {r.HandOverMs.Max():0} ms");
            section.Row(label, Fmt.N(r.PerSecond, "0.0"), Fmt.N(r.PerSecond / n, "0.00"),
                string.Join(", ", r.ByRequest.Select(kv => $"{kv.Key} {kv.Value}")),
                $"{Fmt.N(r.ServerCpuPerSecond * 1000, "0")} ms/s", $"{Fmt.N(r.WaiterCpuPerSecond * 1000 / n, "0.0")} ms/s",
                Fmt.Ms(r.HandOverMs.Median()), Fmt.Ms(Percentile(r.HandOverMs, 0.9)), Fmt.Ms(r.HandOverMs.Max()), r.HandOverRequests.ToString(Fmt.Inv));
            section.Figures.Add(new()
            {
                ["waiters"] = n,
                ["sshfsCache"] = variant.Length == 0,
                ["windowSeconds"] = size.FleetWindow.TotalSeconds,
                ["requestsPerSecond"] = Fmt.R(r.PerSecond, 2),
                ["requestsPerSecondPerWaiter"] = Fmt.R(r.PerSecond / n, 3),
                ["byRequest"] = r.ByRequest.ToDictionary(kv => kv.Key, kv => kv.Value),
                ["serverCpuMsPerSecond"] = Fmt.R(r.ServerCpuPerSecond * 1000, 1),
                ["waiterCpuMsPerSecondEach"] = Fmt.R(r.WaiterCpuPerSecond * 1000 / n, 2),
                ["handOverMs"] = r.HandOverMs.Select(t => Fmt.R(t, 0)).ToList(),
                ["handOverRequests"] = r.HandOverRequests,
                ["foreignHolder"] = foreign,
            });
            section.Target($"fleet N={n}{variant}: requests at the server per waiting process", "≤ 3 /s", $"{r.PerSecond / n:0.00} /s",
                variant.Length == 0 ? r.PerSecond / n <= 3 : null, variant.Length == 0 ? null : "information: what the client's cache saves the server (a mount option, not RepoLock's)");
            section.Target($"fleet N={n}{variant}: hand-over p50, one release", "information", Fmt.Ms(r.HandOverMs.Median()), null,
                "one release seen by every waiter through the same caches; the target is judged on several releases (the row \"hand-over only\")");
        }

        section.Notes.Add("Extrapolation to 500 and 2,000 agents, and the mount options that matter: docs/nfs-and-kubernetes.md (\"A fleet on one export\").");
        return section;
    }

    private sealed record FleetRun(double PerSecond, IReadOnlyList<KeyValuePair<string, int>> ByRequest, double ServerCpuPerSecond, double WaiterCpuPerSecond,
        IReadOnlyList<double> HandOverMs, int HandOverRequests);

    /// <param name="window">The steady-state window to count in; zero for a hand-over only (released at a random point of the waiters' schedule).</param>
    private static async Task<FleetRun?> RunOneAsync(BenchContext ctx, SshfsPair pair, int n, bool foreign, Section section, TimeSpan window)
    {
        var size = ctx.Size;
        var adaptor = Fixtures.Adaptors[0];
        var name = $"fleet-{n}-{Guid.NewGuid():N}"[..16];
        var shared = Path.Combine(pair.Shared, name);
        var layout = new RepoLayout(shared);
        var scope = Path.Combine(layout.SentinelsDir, "@fixture");
        Directory.CreateDirectory(scope);
        for (var i = 0; i < Sentinels; i++)
        {
            File.WriteAllText(Path.Combine(scope, $"language-alpha_0.{i}.0.done"), "");
        }

        var downloadsBefore = ctx.Registry.TarballRequests(adaptor.Name);
        var tarball = ctx.Registry.HoldTarball(adaptor.Name);
        string[] prefix = HostTools.Elsewhere(foreign);
        string[] install = [ctx.Paths.TestHostDll, "install"];
        string[] tail = [ctx.Registry.Url, "-", "300", "4", adaptor.ToString()];
        string[] hold = [.. prefix, "dotnet", .. install, shared, .. tail];
        using var holder = ChildProcess.Start(hold[0], hold[1..], env: new Dictionary<string, string?> { ["npm_config_cache"] = ctx.NewFolder("fleet-npm-cache") });
        var waiters = new List<ChildProcess>();
        try
        {
            await tarball.Requested.WaitAsync(TimeSpan.FromMinutes(2)); // the holder holds the lock and is in npm's download
            var gate = Path.Combine(ctx.NewFolder("fleet-gate"), "go");
            for (var i = 0; i < n; i++)
            {
                var repo = Path.Combine(i % 2 == 0 ? pair.Mount1 : pair.Mount2, name);
                waiters.Add(ChildProcess.Start("dotnet", [.. install, repo, .. tail], env: new Dictionary<string, string?> { ["REPOLOCK_TEST_START_GATE"] = gate }));
            }

            await Task.WhenAll(waiters.Select(w => w.WaitForLineAsync("READY", TimeSpan.FromMinutes(5))));
            ctx.Progress($"fleet N={n}: {n} waiters up; go");
            File.WriteAllText(gate, "");
            var servers = ServerProcesses(pair);
            await Task.Delay(window > TimeSpan.Zero ? size.FleetWarmUp : size.FleetWarmUp + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 2000)));

            var requests0 = Requests(pair);
            var serverCpu0 = servers.Sum(WaitingCpu.ProcessCpuSeconds);
            var waiterCpu0 = waiters.Sum(w => WaitingCpu.ProcessCpuSeconds(w.Id));
            var clock = Stopwatch.StartNew();
            await Task.Delay(window);
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            var requests1 = Requests(pair);
            var serverCpu = (servers.Sum(WaitingCpu.ProcessCpuSeconds) - serverCpu0) / seconds;
            var waiterCpu = (waiters.Sum(w => WaitingCpu.ProcessCpuSeconds(w.Id)) - waiterCpu0) / seconds;
            if (waiters.FirstOrDefault(w => w.HasExited) is { } early)
            {
                section.Errors.Add($"fleet N={n}: a waiter stopped waiting while the holder still held the lock:\n{early.Output}");
                return null;
            }

            // The hand-over: the holder's release, seen on the server's folder, to each waiter's outcome.
            var lockName = Path.GetFileName(layout.LockTarget(adaptor.Alias)) + ".lock";
            var released = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var watch = new FileSystemWatcher(Path.GetDirectoryName(layout.LockTarget(adaptor.Alias))!);
            watch.Renamed += (_, e) =>
            {
                if (e.OldName == lockName)
                {
                    released.TrySetResult(clock.Elapsed); // the release moves the lock folder aside, then removes it
                }
            };
            watch.Deleted += (_, e) =>
            {
                if (e.Name == lockName)
                {
                    released.TrySetResult(clock.Elapsed);
                }
            };
            watch.EnableRaisingEvents = true;
            var outcomes = waiters.Select(async w =>
            {
                await w.WaitForLineAsync("\"outcome\"", TimeSpan.FromMinutes(3));
                return clock.Elapsed;
            }).ToList();
            tarball.Release();
            var releaseAt = await released.Task.WaitAsync(TimeSpan.FromMinutes(3));
            var doneAt = await Task.WhenAll(outcomes);
            var requests2 = Requests(pair);
            var results = await Task.WhenAll(waiters.Select(w => w.WaitAsync(TimeSpan.FromMinutes(2))));
            var holderResult = await holder.WaitAsync(TimeSpan.FromMinutes(2));

            var downloads = ctx.Registry.TarballRequests(adaptor.Name) - downloadsBefore;
            if (downloads != 1)
            {
                section.Errors.Add($"fleet N={n}: {adaptor.Alias} was downloaded {downloads} times, not once");
            }

            if (holderResult.ExitCode != 0 || !holderResult.Stdout.Contains("\"Installed\"", StringComparison.Ordinal))
            {
                section.Errors.Add($"fleet N={n}: the holder did not install (exit {holderResult.ExitCode}): {holderResult.Tail(8)}");
            }

            foreach (var bad in results.Where(r => r.ExitCode != 0 || !r.Stdout.Contains("\"InstalledByPeer\"", StringComparison.Ordinal)))
            {
                section.Errors.Add($"fleet N={n}: a waiter did not report the peer's install (exit {bad.ExitCode}): {bad.Tail(8)}");
            }

            var state = Fixtures.Inspect(shared, [adaptor]);
            if (state.NotInManifest.Count + state.NotInNodeModules.Count + state.NoSentinel.Count > 0)
            {
                section.Errors.Add($"fleet N={n}: the adaptor is not complete at the end");
            }

            var counted = requests1.Subtract(requests0);
            return new FleetRun(counted.Values.Sum() / seconds, counted.OrderByDescending(kv => kv.Value).ToList(), serverCpu, waiterCpu,
                doneAt.Select(t => (t - releaseAt).TotalMilliseconds).ToList(), requests2.Subtract(requests1).Values.Sum());
        }
        finally
        {
            tarball.Release();
            foreach (var w in waiters)
            {
                w.Dispose();
            }
        }
    }

    /// <summary>Requests received so far by both mounts' servers, by request type (one DEBUG3 line <c>request N: type</c> per request).</summary>
    private static Dictionary<string, int> Requests(SshfsPair pair)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var log in new[] { pair.RequestLog(pair.Mount1), pair.RequestLog(pair.Mount2) })
        {
            using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            while (reader.ReadLine() is { } line)
            {
                if (RequestLine().Match(line) is { Success: true } m && m.Groups[1].Value != "sent")
                {
                    counts[m.Groups[1].Value] = counts.GetValueOrDefault(m.Groups[1].Value) + 1;
                }
            }
        }

        return counts;
    }

    private static Dictionary<string, int> Subtract(this Dictionary<string, int> after, Dictionary<string, int> before) =>
        after.Select(kv => (kv.Key, Value: kv.Value - before.GetValueOrDefault(kv.Key))).Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>The two sftp-server processes: the ones whose stderr is a mount's request log.</summary>
    private static List<int> ServerProcesses(SshfsPair pair)
    {
        var logs = new HashSet<string>([pair.RequestLog(pair.Mount1), pair.RequestLog(pair.Mount2)], StringComparer.Ordinal);
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    if (new FileInfo(Path.Combine(dir, "fd", "2")).LinkTarget is { } target && logs.Contains(target))
                    {
                        found.Add(pid);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // a process that exited meanwhile, or not ours to read
                }
            }
        }

        return found;
    }

    private static double Median(this IEnumerable<double> values) => Fmt.Median(values);

    private static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    [GeneratedRegex(@"^debug\d: request \d+: ([\w@.-]+)")]
    private static partial Regex RequestLine();
}
