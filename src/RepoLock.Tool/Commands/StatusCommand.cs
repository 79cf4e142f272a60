using System.CommandLine;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary><c>repolock status</c>: adaptors, locks (judged by the waiters' rules), debris and totals. Exit 0; 1 for an unreadable manifest.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show the adaptors, the locks held (alive, dead or unknown, and why), debris and totals.");
        command.Options.Add(CommonOptions.StaleAge);
        command.SetAction(parsed =>
        {
            var status = new RepoInspector(CommonOptions.RepoOf(parsed), CommonOptions.Settings(parsed)).Inspect();
            if (parsed.GetValue(CommonOptions.Json))
            {
                Show.Json(status);
            }
            else
            {
                Write(status, Console.Out);
            }

            return RepoLockCli.Fine;
        });
        return command;
    }

    public static void Write(RepoStatus status, TextWriter output)
    {
        output.WriteLine($"Repo {status.Root}");
        output.WriteLine();
        var adaptors = new TextTable("ADAPTOR", "VERSION", "SIZE", "INSTALLED", "BY", "LISTED", "DIGEST", "STATE");
        foreach (var a in status.Adaptors)
        {
            adaptors.Add(a.Name, a.Version, Show.Bytes(a.Bytes), Show.Time(a.InstalledAt), a.Host is null ? "-" : $"{a.Host} pid {a.ProcessId}",
                Show.YesNo(a.Listed), !a.HasSentinel ? "-" : a.Digest is null ? "no digest" : "yes", State(a));
        }

        adaptors.WriteTo(output);
        output.WriteLine();
        if (status.Locks.Count > 0)
        {
            var locks = new TextTable("LOCK", "HOLDER", "SINCE", "LAST REFRESH", "VERDICT", "WHY");
            foreach (var l in status.Locks)
            {
                locks.Add(l.Alias, l.Host is null ? "unknown (no current owner record)" : $"{l.Host} pid {l.ProcessId}", Show.Time(l.Since),
                    Show.Seconds(l.Age), l.Verdict.ToString().ToLowerInvariant(), l.Why);
            }

            locks.WriteTo(output);
            output.WriteLine();
        }

        if (status.Debris.Count > 0)
        {
            var debris = new TextTable("DEBRIS", "SIZE", "WHAT");
            foreach (var d in status.Debris)
            {
                debris.Add(d.Path, Show.Bytes(d.Bytes), d.What);
            }

            debris.WriteTo(output);
            output.WriteLine();
        }

        if (status.Leftovers.Count > 0)
        {
            var leftovers = new TextTable("LEFTOVER", "SIZE", "WHY NOTHING NEEDS IT");
            foreach (var l in status.Leftovers)
            {
                leftovers.Add(l.Path, Show.Bytes(l.Bytes), l.Why);
            }

            leftovers.WriteTo(output);
            output.WriteLine();
        }

        var space = status.Space;
        var reclaimable = status.Leftovers.Sum(l => l.Bytes);
        var spaceTable = new TextTable("SPACE", "SIZE", "WHAT");
        spaceTable.Add("adaptors", Show.Bytes(space.Adaptors), "adaptor folders (node_modules/<alias>)");
        spaceTable.Add("packages", Show.Bytes(space.Packages), "node_modules outside adaptor folders (hoisted by a root npm install)");
        spaceTable.Add("listings", Show.Bytes(space.Listings), "content listings (.sentinels/*.files)");
        spaceTable.Add("debris", Show.Bytes(space.Debris), "left by processes that are gone");
        spaceTable.Add("other", Show.Bytes(space.Other), "manifest, sentinels, locks, owner records, package-lock.json, live staging");
        spaceTable.Add("total", Show.Bytes(space.Total), $"every file under the repo; {Show.Bytes(reclaimable + space.Debris)} reclaimable (repolock prune --only-leftovers, verify --fix)");
        spaceTable.WriteTo(output);
        if (status.PackagesNotJudged is { } why)
        {
            output.WriteLine($"Note: {why}.");
        }

        output.WriteLine();
        var installed = status.Adaptors.Count(a => a.Installed);
        var stock = status.Adaptors.Count(a => a.StockInstall);
        var alive = status.Locks.Count(l => l.Verdict == LockVerdict.Alive);
        var dead = status.Locks.Count(l => l.Verdict == LockVerdict.Dead);
        output.WriteLine($"{installed} adaptor(s) installed{(stock > 0 ? $" and {stock} by an OpenFn worker (unverified)" : "")} of {status.Adaptors.Count} found, {Show.Bytes(status.AdaptorBytes)}; " +
                         $"{status.Locks.Count} lock(s) held ({alive} alive, {dead} dead, {status.Locks.Count - alive - dead} unknown); " +
                         $"{status.Debris.Count} debris, {Show.Bytes(status.DebrisBytes)}; {status.Leftovers.Count} leftover(s), {Show.Bytes(reclaimable)}; {Show.Bytes(space.Total)} in all.");
    }

    /// <summary>The state column, which agrees with the lock's verdict: a dead lock is not "being installed".</summary>
    private static string State(AdaptorInfo a) => a switch
    {
        { LockVerdict: LockVerdict.Dead } => "dead lock (nothing is installing it; verify --fix or unlock breaks it)",
        { LockVerdict: LockVerdict.Unknown } => "locked (holder unknown: being installed, or its holder is gone)",
        { Locked: true } => "locked (being installed or removed)",
        { Installed: true, Adopted: true } => "installed (adopted from an OpenFn worker, unverified)",
        { Installed: true } => "installed",
        { StockInstall: true } => "installed by an OpenFn worker, unverified",
        { HasFolder: true } => "folder without sentinel",
        { HasSentinel: true } => "sentinel without folder",
        _ => "manifest entry only",
    };
}
