using System.Globalization;
using System.Text.Json.Nodes;

namespace RepoLock.Tests.Infrastructure;

/// <summary>The proper-lockfile 4.1.2 scripts in tests/node, run as real Node processes.</summary>
internal static class NodeLocks
{
    /// <summary>lock-hold.cjs: prints LOCKED once held; "release" on stdin releases (RELEASED). A clock skew shifts the mtimes it writes.</summary>
    public static ChildProcess Hold(string target, TimeSpan stale, TimeSpan? update = null, TimeSpan? clockSkew = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!); // the scripts create the target file, not its folder
        List<string> args = [];
        Dictionary<string, string?>? env = null;
        if (clockSkew is { } skew)
        {
            args.AddRange(["-r", NodeTools.Script("skew-clock.cjs")]);
            env = new() { ["REPOLOCK_TEST_CLOCK_SKEW_MS"] = Ms(skew) };
        }

        args.AddRange([NodeTools.Script("lock-hold.cjs"), target, Ms(stale)]);
        if (update is { } u)
        {
            args.Add(Ms(u));
        }

        return ChildProcess.Start("node", args, NodeTools.Dir, env);
    }

    /// <summary>lock-check.cjs: proper-lockfile's own view of the lock (check, then a lock attempt without retries).</summary>
    public static async Task<(bool? CheckLocked, string? LockError)> CheckAsync(string target, TimeSpan stale)
    {
        using var check = ChildProcess.Start("node", [NodeTools.Script("lock-check.cjs"), target, Ms(stale)], NodeTools.Dir);
        Assert.Equal(0, await check.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var json = JsonNode.Parse(check.Stdout.Trim())!;
        return (json["checkLocked"]?.GetValue<bool>(), json["lockError"]?.GetValue<string>());
    }

    /// <summary>lock-wait.cjs: a proper-lockfile waiter that retries for about <paramref name="wait"/>; prints ACQUIRED or ELOCKED.</summary>
    public static ChildProcess Wait(string target, TimeSpan stale, TimeSpan wait)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return ChildProcess.Start("node", [NodeTools.Script("lock-wait.cjs"), target, Ms(stale), Ms(wait)], NodeTools.Dir);
    }

    /// <summary>counter.cjs: increments the counter file <paramref name="rounds"/> times, each under the lock.</summary>
    public static ChildProcess Counter(string target, string counterFile, int rounds, TimeSpan stale)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return ChildProcess.Start("node", [NodeTools.Script("counter.cjs"), target, counterFile, rounds.ToString(CultureInfo.InvariantCulture), Ms(stale)], NodeTools.Dir);
    }

    private static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}

/// <summary>The TestHost verbs that hold or count under a RepoLock lock, from a separate .NET process.</summary>
internal static class HostLocks
{
    public static ChildProcess Hold(string target, TimeSpan stale, TimeSpan? heartbeat = null, IEnumerable<string>? prefix = null, TimeSpan? clockSkew = null)
    {
        List<string> args = [.. prefix ?? [], "dotnet", TestPaths.TestHostDll, "hold", target, Seconds(stale)];
        if (heartbeat is { } h)
        {
            args.Add(Seconds(h));
        }

        var env = clockSkew is { } skew ? new Dictionary<string, string?> { ["REPOLOCK_TEST_CLOCK_SKEW_HOURS"] = skew.TotalHours.ToString(CultureInfo.InvariantCulture) } : null;
        return ChildProcess.Start(args[0], args.Skip(1), env: env);
    }

    public static ChildProcess Counter(string target, string counterFile, int rounds, TimeSpan stale, TimeSpan? heartbeat = null)
    {
        List<string> args = [TestPaths.TestHostDll, "counter", target, counterFile, rounds.ToString(CultureInfo.InvariantCulture), Seconds(stale)];
        if (heartbeat is { } h)
        {
            args.Add(Seconds(h));
        }

        return ChildProcess.Start("dotnet", args);
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(CultureInfo.InvariantCulture);
}
