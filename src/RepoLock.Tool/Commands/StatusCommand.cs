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

        var installed = status.Adaptors.Count(a => a.Installed);
        var alive = status.Locks.Count(l => l.Verdict == LockVerdict.Alive);
        var dead = status.Locks.Count(l => l.Verdict == LockVerdict.Dead);
        output.WriteLine($"{installed} adaptor(s) installed of {status.Adaptors.Count} found, {Show.Bytes(status.AdaptorBytes)}; " +
                         $"{status.Locks.Count} lock(s) held ({alive} alive, {dead} dead, {status.Locks.Count - alive - dead} unknown); " +
                         $"{status.Debris.Count} debris, {Show.Bytes(status.DebrisBytes)}.");
    }

    private static string State(AdaptorInfo a) => a switch
    {
        { Locked: true } => "locked (being installed or removed)",
        { Installed: true } => "installed",
        { HasFolder: true } => "folder without sentinel",
        { HasSentinel: true } => "sentinel without folder",
        _ => "manifest entry only",
    };
}
