using System.CommandLine;
using System.Globalization;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary>
/// <c>repolock prune --keep &lt;spec&gt;... | --keep-file &lt;file&gt; | --keep-from &lt;project file&gt;... [--older-than &lt;days&gt;] [--yes]</c>: a dry run by default; with --yes
/// removes each adaptor not kept under its alias lock (sentinel, manifest entry, folder), skipping any that is being installed.
/// </summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var keep = new Option<string[]>("--keep") { Description = "Adaptors to keep: name@version, or name@latest to keep every version of a name.", AllowMultipleArgumentsPerToken = true, HelpName = "spec" };
        var keepFile = new Option<FileInfo?>("--keep-file") { Description = "A file of specifiers to keep, one per line, '#' comments allowed.", HelpName = "file" };
        var keepFrom = new Option<FileInfo[]>("--keep-from")
        {
            Description = "OpenFn project files (project.yaml) or CLI workflows: keep every adaptor their jobs name.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "file",
        };
        var olderThan = new Option<double?>("--older-than") { Description = "Only remove adaptors installed more than this many days ago.", HelpName = "days" };
        var yes = new Option<bool>("--yes") { Description = "Remove them (without it: a dry run that lists what would go and the bytes freed)." };
        var command = new Command("prune", "Remove adaptors not kept, each under its lock; a dry run unless --yes.");
        foreach (var option in new Option[] { keep, keepFile, keepFrom, olderThan, yes, CommonOptions.StaleAge })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellationToken) =>
        {
            var repo = CommonOptions.RepoOf(parsed);
            var settings = CommonOptions.Settings(parsed);
            var fromProjects = parsed.GetValue(keepFrom) is { Length: > 0 } files ? ProjectFileOptions.Merge(null, files)?.Adaptors : [];
            if (fromProjects is null)
            {
                return RepoLockCli.Refused;
            }

            var kept = KeepList(parsed.GetValue(keep), parsed.GetValue(keepFile), fromProjects.Count > 0 || parsed.GetValue(keepFrom) is { Length: > 0 });
            kept.AddRange(fromProjects);
            var age = parsed.GetValue(olderThan) is { } days ? TimeSpan.FromDays(days) : (TimeSpan?)null;
            var plan = new RepoInspector(repo, settings).PlanPrune(kept, age);
            var json = parsed.GetValue(CommonOptions.Json);
            var dryRun = !parsed.GetValue(yes);
            var maintenance = new RepoMaintenance(repo, settings, new ConsoleLog(json ? Console.Error : Console.Out));
            var rows = new List<(AdaptorInfo Adaptor, string Outcome)>();
            foreach (var a in plan)
            {
                var outcome = dryRun ? "would remove"
                    : await maintenance.RemoveAdaptorAsync(a.Alias, "repolock prune", cancellationToken).ConfigureAwait(false) ? "removed"
                    : "skipped: being installed (locked)";
                rows.Add((a, outcome));
            }

            var freed = rows.Where(r => r.Outcome != "skipped: being installed (locked)").Sum(r => r.Adaptor.Bytes);
            if (json)
            {
                Show.Json(new { dryRun, adaptors = rows.Select(r => new { alias = r.Adaptor.Alias, bytes = r.Adaptor.Bytes, installedAt = r.Adaptor.InstalledAt, outcome = r.Outcome }), bytes = freed });
            }
            else
            {
                var table = new TextTable("ADAPTOR", "VERSION", "SIZE", "INSTALLED", "OUTCOME");
                rows.ForEach(r => table.Add(r.Adaptor.Name, r.Adaptor.Version, Show.Bytes(r.Adaptor.Bytes), Show.Time(r.Adaptor.InstalledAt), r.Outcome));
                table.WriteTo(Console.Out);
                Console.Out.WriteLine(dryRun
                    ? $"Dry run: {rows.Count} adaptor(s) would be removed, {Show.Bytes(freed)} freed. Run again with --yes to remove them."
                    : $"{rows.Count(r => r.Outcome == "removed")} adaptor(s) removed, {Show.Bytes(freed)} freed.");
            }

            return RepoLockCli.Fine;
        });
        return command;
    }

    /// <summary>The specifiers to keep, from --keep and the --keep-file; RL7004 when none of those and --keep-from is given, RL7003 for a bad file.</summary>
    private static List<AdaptorSpecifier> KeepList(string[]? keep, FileInfo? file, bool fromProjects)
    {
        if ((keep is null || keep.Length == 0) && file is null && !fromProjects)
        {
            throw ToolErrors.NothingKept();
        }

        var specs = (keep ?? []).Select(k => AdaptorSpecifier.Parse(k)).ToList();
        if (file is null)
        {
            return specs;
        }

        string[] lines;
        try
        {
            lines = File.ReadAllLines(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ToolErrors.BadKeepList(file.FullName, e.Message);
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = (lines[i].IndexOf('#', StringComparison.Ordinal) is var hash and >= 0 ? lines[i][..hash] : lines[i]).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                specs.Add(AdaptorSpecifier.Parse(line));
            }
            catch (RepoLockException e)
            {
                throw ToolErrors.BadKeepList(file.FullName, $"line {(i + 1).ToString(CultureInfo.InvariantCulture)}: {e.Message}");
            }
        }

        return specs;
    }
}
