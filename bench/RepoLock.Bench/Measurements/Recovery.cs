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
        var section = new Section { Id = "recovery", Number = 6, Title = "Recovery after SIGKILL of a lock holder (same machine)" };
        section.Method =
            $"A tests/RepoLock.TestHost `hold` process takes the lock of an adaptor alias (stale age {settings.StaleAge.TotalSeconds:0} s) and prints LOCKED. " +
            $"The bench then waits for the same lock with `LockService.AcquireAsync` (default settings: poll {settings.PollInterval.TotalMilliseconds:0} ms, fast recovery on) and, " +
            "once it has seen the lock held at least once, SIGKILLs the holder. Figure: time from the kill to the waiter holding the lock " +
            $"(the holder's owner record proves it dead). Without the owner record a waiter would wait out the stale age, {settings.StaleAge.TotalSeconds:0} s. " +
            $"{ctx.Size.RecoveryRepeats} repetitions. Then once with the holder in another PID namespace (`unshare --pid --fork --mount-proc`, " +
            "as a build in another pod or on another machine): its pid proves nothing here, so only its lease can tell (renewed every " +
            $"{settings.EffectiveLeaseInterval.TotalSeconds:0} s, grace {settings.EffectiveLeaseGrace.TotalSeconds:0} s).";
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
        if (UnshareWorks())
        {
            otherNamespace = await KillAndTakeOverAsync(ctx, settings, section, ["unshare", "--pid", "--fork", "--mount-proc"]);
            ctx.Progress($"recovery from another PID namespace: {otherNamespace:0} ms");
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

        section.Row("stale age (a Node worker's lock)", $"{settings.StaleAge.TotalSeconds:0} s");
        section.Figures.Add(new()
        {
            ["takeoverMs"] = times.Select(t => Fmt.R(t, 1)).ToList(),
            ["medianMs"] = Fmt.R(median, 1),
            ["maxMs"] = Fmt.R(times.Max(), 1),
            ["otherPidNamespaceMs"] = otherNamespace is { } o ? Fmt.R(o, 1) : null,
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

    private static bool UnshareWorks()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("unshare", ["--pid", "--fork", "--mount-proc", "true"]) { UseShellExecute = false, RedirectStandardError = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private sealed class WaitLog : IRepoLockLog
    {
        public bool TookOver { get; private set; }

        public void Info(string message) => TookOver |= message.Contains("took over", StringComparison.Ordinal);

        public void Detail(string message)
        {
        }

        public void Warning(string code, string message)
        {
        }
    }
}
