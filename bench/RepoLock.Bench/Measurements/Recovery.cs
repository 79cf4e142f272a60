using System.Diagnostics;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>6. A holder is SIGKILLed; how long until a waiter on the same machine, and one seeing it from another PID namespace, has the lock.</summary>
public static class Recovery
{
    public static async Task<Section> RunAsync(BenchContext ctx)
    {
        var settings = new LockSettings();
        var section = new Section { Id = "recovery", Number = 6, Title = "Recovery after SIGKILL of a lock holder (same machine, another PID namespace)" };
        section.Method =
            $"A tests/RepoLock.TestHost `hold` process takes the lock of an adaptor alias (stale age {settings.StaleAge.TotalSeconds:0} s) and prints LOCKED. " +
            $"The bench then waits for the same lock with `LockService.AcquireAsync` (default settings: poll {settings.PollInterval.TotalMilliseconds:0} ms, fast recovery on) and, " +
            "once it has seen the lock held at least once, SIGKILLs the holder. Figure: time from the kill to the waiter holding the lock " +
            $"(the holder's owner record proves it dead). Without the owner record a waiter would wait out the stale age, {settings.StaleAge.TotalSeconds:0} s. " +
            $"{ctx.Size.RecoveryRepeats} repetitions. Then once with the holder in another PID namespace (`unshare --pid --fork --mount-proc`, " +
            "as a build in another pod or on another machine): its pid proves nothing here, so only its lease can tell (renewed every " +
            $"{settings.EffectiveLeaseInterval.TotalSeconds:0} s, grace {settings.EffectiveLeaseGrace.TotalSeconds:0} s). " +
            "Last, the whole path a user sees: a TestHost `install` in another PID namespace is SIGKILLed while npm downloads the adaptor (the fake registry " +
            "holds its tarball answer), and an install in the bench that was waiting for the same adaptor takes over and installs it (its own download delayed " +
            $"by the usual {ctx.Size.TarballLatency.TotalSeconds:0.0#} s): ms from the kill to the takeover and to the adaptor installed.";
        section.Columns = ["Figure", "Value"];
        var times = new List<double>();
        for (var r = 0; r < ctx.Size.RecoveryRepeats; r++)
        {
            if (await KillAndTakeOverAsync(ctx, settings, section, []) is { } ms)
            {
                times.Add(ms);
                ctx.Progress($"recovery {r + 1}/{ctx.Size.RecoveryRepeats}: {times[^1]:0} ms");
            }
        }

        double? otherNamespace = null;
        (double TakeOver, double Installed)? installer = null;
        if (HostTools.UnshareWorks)
        {
            otherNamespace = await KillAndTakeOverAsync(ctx, settings, section, HostTools.Elsewhere(true));
            ctx.Progress($"recovery from another PID namespace: {otherNamespace:0} ms");
            installer = await KillInstallerAsync(ctx, section, HostTools.Elsewhere(true));
            ctx.Progress($"installer killed in another PID namespace: took over after {installer?.TakeOver:0} ms, installed after {installer?.Installed:0} ms");
        }
        else
        {
            section.Notes.Add("unshare --pid --fork --mount-proc does not work here (it needs root): no figure for another PID namespace.");
        }

        if (times.Count == 0)
        {
            return section;
        }

        var median = Fmt.Median(times);
        section.Row("SIGKILL → waiter holds the lock, median", Fmt.Ms(median));
        section.Row("max", Fmt.Ms(times.Max()));
        section.Row("all", string.Join(", ", times.Select(t => t.ToString("0", Fmt.Inv))) + " ms");
        if (otherNamespace is { } other)
        {
            section.Row("SIGKILL of a holder in another PID namespace → waiter holds the lock (the lease)", Fmt.Ms(other));
        }

        if (installer is { } inst)
        {
            section.Row("SIGKILL of an installer in another PID namespace, mid npm install → the waiting install took over / has the adaptor installed",
                $"{Fmt.Ms(inst.TakeOver)} / {Fmt.Ms(inst.Installed)}");
        }

        section.Row("stale age (a Node worker's lock)", $"{settings.StaleAge.TotalSeconds:0} s");
        section.Figures.Add(new()
        {
            ["takeoverMs"] = times.Select(t => Fmt.R(t, 1)).ToList(),
            ["medianMs"] = Fmt.R(median, 1),
            ["maxMs"] = Fmt.R(times.Max(), 1),
            ["otherPidNamespaceMs"] = otherNamespace is { } o ? Fmt.R(o, 1) : null,
            ["otherPidNamespaceInstallerTakeoverMs"] = installer is { } i1 ? Fmt.R(i1.TakeOver, 1) : null,
            ["otherPidNamespaceInstallerInstalledMs"] = installer is { } i2 ? Fmt.R(i2.Installed, 1) : null,
            ["installTarballLatencySeconds"] = ctx.Size.TarballLatency.TotalSeconds,
            ["leaseGraceSeconds"] = settings.EffectiveLeaseGrace.TotalSeconds,
            ["staleAgeSeconds"] = settings.StaleAge.TotalSeconds,
            ["pollIntervalMs"] = settings.PollInterval.TotalMilliseconds,
        });
        section.Target("SIGKILL of a holder → same-machine waiter takes over (max)", "< 2 s", $"{Fmt.Ms(times.Max())} (median {Fmt.Ms(median)}; stale age {settings.StaleAge.TotalSeconds:0} s)",
            times.Max() < 2000);
        if (otherNamespace is { } ns)
        {
            section.Target("SIGKILL of a holder in another PID namespace → takeover", "< 20 s", $"{Fmt.Ms(ns)} (stale age {settings.StaleAge.TotalSeconds:0} s)", ns < 20_000);
        }

        if (installer is { } ins)
        {
            section.Target("SIGKILL of an installer in another PID namespace → takeover (installed)", "< 20 s",
                $"{Fmt.Ms(ins.TakeOver)} (installed after {Fmt.Ms(ins.Installed)}, with a {ctx.Size.TarballLatency.TotalSeconds:0.0#} s tarball)", ins.TakeOver < 20_000);
        }

        return section;
    }

    /// <summary>One round: a holder (behind <paramref name="prefix"/>) takes the lock, a waiter waits, the holder is killed; ms to takeover.</summary>
    private static async Task<double?> KillAndTakeOverAsync(BenchContext ctx, LockSettings settings, Section section, string[] prefix)
    {
        var dir = ctx.NewFolder("recovery");
        var target = new RepoLayout(dir).LockTarget("@fixture/language-alpha_1.0.0");
        string[] command = [.. prefix, "dotnet", ctx.Paths.TestHostDll, "hold", target, settings.StaleAge.TotalSeconds.ToString(Fmt.Inv)];
        using var holder = ChildProcess.Start(command[0], command[1..]);
        await holder.WaitForLineAsync("LOCKED", TimeSpan.FromSeconds(60));
        var log = new WaitLog();
        var locks = new LockService(settings, log: log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(settings.StaleAge.TotalSeconds + 60));
        var waiter = Task.Run(() => locks.AcquireAsync(target, "recovery bench", "recovery bench", cts.Token));
        // The waiter must have found the lock held (and be sleeping between polls) before the kill.
        await Task.Delay(settings.PollInterval + TimeSpan.FromMilliseconds(150));
        if (waiter.IsCompleted)
        {
            section.Errors.Add("the waiter got the lock while the holder was alive");
            (await waiter).Dispose();
            return null;
        }

        var killed = Stopwatch.StartNew();
        holder.Kill();
        using var held = await waiter;
        var elapsed = killed.Elapsed.TotalMilliseconds;
        if (!log.TookOver)
        {
            section.Notes.Add("The waiter did not log a takeover in one repetition (the holder released the lock itself?).");
        }

        return elapsed;
    }

    /// <summary>
    /// A TestHost <c>install</c> (behind <paramref name="prefix"/>) is SIGKILLed while npm downloads the adaptor (its lock held); an
    /// install in the bench waits for the same adaptor. Ms from the kill to the waiter's takeover and to the adaptor installed.
    /// </summary>
    private static async Task<(double TakeOver, double Installed)?> KillInstallerAsync(BenchContext ctx, Section section, string[] prefix)
    {
        var adaptor = Fixtures.Adaptors[0];
        var repo = Path.Combine(ctx.NewFolder("recovery-install"), "repo");
        var before = ctx.Registry.TarballRequests(adaptor.Name);
        ctx.Registry.TarballLatency = TimeSpan.FromMinutes(5); // the holder stays in npm until it is killed
        try
        {
            string[] command = [.. prefix, "dotnet", ctx.Paths.TestHostDll, "install", repo, ctx.Registry.Url, ctx.NewFolder("npm-cache-holder"), "300", "1", adaptor.ToString()];
            using var holder = ChildProcess.Start(command[0], command[1..]);
            var started = Stopwatch.StartNew();
            while (ctx.Registry.TarballRequests(adaptor.Name) == before)
            {
                if (holder.HasExited || started.Elapsed > TimeSpan.FromMinutes(1))
                {
                    section.Errors.Add($"the installer never asked for the tarball:\n{holder.Output}");
                    return null;
                }

                await Task.Delay(20);
            }

            var log = new WaitLog();
            var settings = new RepoLockSettings { Registry = ctx.Registry.Url, NpmCacheDir = ctx.NewFolder("npm-cache-waiter") };
            var waiter = Task.Run(() => new AdaptorRepo(new RepoLayout(repo), settings, log).EnsureInstalledAsync([adaptor], CancellationToken.None));
            await Task.Delay(new LockSettings().PollInterval + TimeSpan.FromMilliseconds(150));
            if (waiter.IsCompleted)
            {
                section.Errors.Add("the waiting install finished while the installer was alive");
                return null;
            }

            log.Clock = Stopwatch.StartNew();
            holder.Kill();
            ctx.Registry.TarballLatency = ctx.Size.TarballLatency; // the waiter's own download: an ordinary one
            var result = await waiter;
            var installed = log.Clock.Elapsed.TotalMilliseconds;
            if (!result.Succeeded || result.Adaptors.Single().Outcome != InstallOutcome.Installed)
            {
                section.Errors.Add($"the waiting install did not install the adaptor itself: {string.Join("; ", result.Failures.Select(f => f.Message))}");
                return null;
            }

            return (log.TookOverAtMs ?? double.NaN, installed);
        }
        finally
        {
            ctx.Registry.TarballLatency = ctx.Size.TarballLatency;
        }
    }

    private sealed class WaitLog : IRepoLockLog
    {
        public bool TookOver { get; private set; }

        /// <summary>Runs from the kill; <see cref="TookOverAtMs"/> is read off it when the takeover is logged.</summary>
        public Stopwatch? Clock { get; set; }

        public double? TookOverAtMs { get; private set; }

        public void Info(string message)
        {
            if (message.Contains("took over", StringComparison.Ordinal))
            {
                TookOver = true;
                TookOverAtMs ??= Clock?.Elapsed.TotalMilliseconds;
            }
        }

        public void Detail(string message)
        {
        }

        public void Warning(string code, string message)
        {
        }
    }
}
