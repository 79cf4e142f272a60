using System.Text.Json;
using RepoLock.Core;

// Usage:
//   install <repo> <registry|-> <npmCache|-> <staleSeconds> <maxParallel> <spec>...   prints one JSON line per adaptor: {alias, outcome}
//   counter <target> <counterFile> <rounds> <staleSeconds> [heartbeatSeconds]       increments the counter under the lock, rounds times
//   hold <target> <staleSeconds> [heartbeatSeconds|-] [leaseGraceSeconds]           prints LOCKED, holds until stdin ends or "release", prints RELEASED;
//                                                                                   on "check" prints STILL-HELD or LOST <code> (the lost-lock check before a change)
//   alive <pid> <processStart>                                                      prints ALIVE or GONE: what a waiter on this machine concludes
//   manifest-add <repo> <spec>...                                                   adds the specs to the repo manifest one by one (each under its lock)
// With REPOLOCK_TEST_START_GATE=<file>, install, counter and manifest-add print READY (stderr) and start once <file> exists.
// With REPOLOCK_TEST_CLOCK_SKEW_HOURS=<h>, hold runs on a clock that many hours off (this process's own clock, not the file server's).
// counter prints "<rounds> <waited>": waited counts the rounds that found the lock held by a peer.
var verb = args.Length > 0 ? args[0] : "";
var log = new ConsoleLog();
try
{
    switch (verb)
    {
        case "install":
        {
            // Checkpoints (REPOLOCK_TEST_CHECKPOINT_DIR) are read by the core itself, as in a build.
            var settings = new RepoLockSettings
            {
                StaleAge = Seconds(args[4]),
                LockTimeout = TimeSpan.FromSeconds(300),
                Registry = args[2] == "-" ? null : args[2],
                NpmCacheDir = args[3] == "-" ? null : args[3],
                MaxParallel = int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture),
                CreateRepoDir = true,
            };
            var repo = new AdaptorRepo(args[1], settings, log);
            var specs = args.Skip(6).Select(s => AdaptorSpecifier.Parse(s)).ToList();
            await StartGateAsync();
            var result = await repo.EnsureInstalledAsync(specs, default);
            foreach (var r in result.Adaptors)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { alias = r.Adaptor.Alias, outcome = r.Outcome.ToString() }));
            }

            foreach (var f in result.Failures)
            {
                Console.Error.WriteLine($"{f.Code}: {f.Message}");
            }

            return result.Succeeded ? 0 : 1;
        }

        case "counter":
        {
            var locks = new LockService(new LockSettings { StaleAge = Seconds(args[4]), Heartbeat = OptionalSeconds(args, 5), PollInterval = TimeSpan.FromMilliseconds(5) }, log: log);
            var rounds = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
            var waited = 0;
            await StartGateAsync();
            for (var i = 0; i < rounds; i++)
            {
                var waiter = locks.StartWaiting(args[1], "counter");
                var held = waiter.TryAcquire("counter");
                if (held is null)
                {
                    waited++;
                    held = await locks.AcquireAsync(args[1], "counter", "counter", default);
                }

                using (held)
                {
                    var value = File.Exists(args[2]) ? int.Parse(File.ReadAllText(args[2]).Trim() is { Length: > 0 } t ? t : "0", System.Globalization.CultureInfo.InvariantCulture) : 0;
                    File.WriteAllText(args[2], (value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            Console.WriteLine($"{rounds} {waited}");
            return 0;
        }

        case "manifest-add":
        {
            var layout = new RepoLayout(args[1]);
            var locks = new LockService(new LockSettings { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(300) }, log: log);
            var specs = args.Skip(2).Select(s => AdaptorSpecifier.Parse(s)).ToList();
            await StartGateAsync();
            foreach (var spec in specs)
            {
                await RepoManifest.AddAsync(layout, locks, spec, default);
            }

            Console.WriteLine(specs.Count);
            return 0;
        }

        case "hold":
        {
            var settings = new LockSettings { StaleAge = Seconds(args[2]), Heartbeat = OptionalSeconds(args, 3), Timeout = TimeSpan.FromSeconds(600) };
            settings = OptionalSeconds(args, 4) is { } grace ? settings with { LeaseGrace = grace } : settings;
            var locks = new LockService(settings, time: SkewedClock(), log: log);
            using (var held = await locks.AcquireAsync(args[1], "hold for a test", "hold", default))
            {
                Console.WriteLine("LOCKED");
                Console.Out.Flush();
                while (Console.ReadLine() is { } line && line != "release")
                {
                    if (line == "check")
                    {
                        try
                        {
                            held.ThrowIfLost("hold");
                            Console.WriteLine("STILL-HELD");
                        }
                        catch (RepoLockException e)
                        {
                            Console.WriteLine($"LOST {e.Code}");
                        }

                        Console.Out.Flush();
                    }
                }
            }

            Console.WriteLine("RELEASED");
            return 0;
        }

        case "alive":
            Console.WriteLine(MachineIdentity.IsProcessAlive(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]) ? "ALIVE" : "GONE");
            return 0;

        default:
            Console.Error.WriteLine("usage: install|counter|hold|manifest-add|alive ...");
            return 2;
    }
}
catch (RepoLockException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message}");
    return 1;
}

static async Task StartGateAsync()
{
    if (Environment.GetEnvironmentVariable("REPOLOCK_TEST_START_GATE") is { Length: > 0 } gate)
    {
        // Woken by the kernel when the gate appears (a fleet of 64 processes polling it would take the CPU the others need to start).
        using var appeared = new SemaphoreSlim(0);
        using var watch = new FileSystemWatcher(Path.GetDirectoryName(Path.GetFullPath(gate))!, Path.GetFileName(gate));
        watch.Created += (_, _) => appeared.Release();
        watch.Renamed += (_, _) => appeared.Release();
        watch.EnableRaisingEvents = true;
        Console.Error.WriteLine("READY");
        while (!File.Exists(gate))
        {
            await appeared.WaitAsync(TimeSpan.FromMilliseconds(100)); // the watch is the fast path; the check is the truth
        }
    }
}

static TimeProvider SkewedClock() =>
    Environment.GetEnvironmentVariable("REPOLOCK_TEST_CLOCK_SKEW_HOURS") is { Length: > 0 } h
        ? new SkewedTimeProvider(TimeSpan.FromHours(double.Parse(h, System.Globalization.CultureInfo.InvariantCulture)))
        : TimeProvider.System;

static TimeSpan Seconds(string text) => TimeSpan.FromSeconds(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture));

static TimeSpan? OptionalSeconds(string[] args, int index) => args.Length > index && args[index] != "-" ? Seconds(args[index]) : null;

internal sealed class ConsoleLog : IRepoLockLog
{
    public void Info(string message) => Console.Error.WriteLine(message);
    public void Detail(string message) => Console.Error.WriteLine(message);
    public void Warning(string code, string message) => Console.Error.WriteLine($"warning {code}: {message}");
}

internal sealed class SkewedTimeProvider(TimeSpan skew) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + skew;
}
