using System.CommandLine;
using System.Globalization;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary>
/// <c>repolock prune --keep &lt;spec&gt;... | --keep-file &lt;file&gt; | --keep-from &lt;project file&gt;... [--older-than &lt;days&gt;] [--yes]</c>: a dry run by default; with --yes
/// removes each adaptor not kept under its alias lock (sentinel, manifest entry, folder), skipping any that is being installed, then reclaims
/// what nothing needs (<see cref="RepoStatus.Leftovers"/>). A keep entry that matches nothing installed is RL7006 unless --allow-unmatched.
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
        var olderThan = new Option<double?>("--older-than") { Description = "Only remove adaptors whose sentinel the file server wrote more than this many days ago (by its clock).", HelpName = "days" };
        var yes = new Option<bool>("--yes") { Description = "Remove them (without it: a dry run that lists what would go and the bytes freed)." };
        var allowUnmatched = new Option<bool>("--allow-unmatched") { Description = "Accept keep entries that match nothing installed (without it: RL7006, nothing removed)." };
        var onlyLeftovers = new Option<bool>("--only-leftovers") { Description = "Reclaim only what nothing needs (hoisted packages no closure resolves, orphaned listings, owner records without a lock); no adaptor is removed and no keep list is needed." };
        var command = new Command("prune", "Remove adaptors not kept, each under its lock, and reclaim what nothing needs; a dry run unless --yes.");
        foreach (var option in new Option[] { keep, keepFile, keepFrom, olderThan, yes, allowUnmatched, onlyLeftovers, CommonOptions.StaleAge })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellationToken) =>
        {
            var repo = CommonOptions.RepoOf(parsed);
            var settings = CommonOptions.Settings(parsed);
            var leftoversOnly = parsed.GetValue(onlyLeftovers);
            var fromProjects = !leftoversOnly && parsed.GetValue(keepFrom) is { Length: > 0 } files ? ProjectFileOptions.Merge(null, files)?.Adaptors : [];
            if (fromProjects is null)
            {
                return RepoLockCli.Refused;
            }

            var kept = leftoversOnly ? [] : KeepList(parsed.GetValue(keep), parsed.GetValue(keepFile), fromProjects.Count > 0 || parsed.GetValue(keepFrom) is { Length: > 0 });
            kept.AddRange(fromProjects);
            var age = parsed.GetValue(olderThan) is { } days ? TimeSpan.FromDays(days) : (TimeSpan?)null;
            var inspector = new RepoInspector(repo, settings);
            var status = inspector.Inspect();
            var matches = kept.Select(k => (Keep: k.ToString(), Matched: RepoInspector.KeptBy(k, status))).ToList();
            if (!parsed.GetValue(allowUnmatched) && matches.Where(m => m.Matched.Count == 0).Select(m => m.Keep).ToList() is { Count: > 0 } unmatched)
            {
                throw ToolErrors.KeepUnmatched(unmatched);
            }

            var plan = leftoversOnly ? [] : inspector.PlanPrune(kept, age, status);
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

            // Leftovers judged after the adaptors went: a package only a pruned adaptor needed is one now.
            var leftovers = dryRun ? inspector.LeftoversAfter(plan, status) : new RepoInspector(repo, settings).Inspect().Leftovers;
            var reclaimed = dryRun ? [] : maintenance.Reclaim(leftovers).Select(l => l.Path).ToHashSet(StringComparer.Ordinal);
            var leftoverRows = leftovers.Select(l => (Leftover: l, Outcome: dryRun ? "would reclaim" : reclaimed.Contains(l.Path) ? "reclaimed" : "kept: needed again or in use")).ToList();

            var freed = rows.Where(r => r.Outcome != "skipped: being installed (locked)").Sum(r => r.Adaptor.Bytes);
            var freedLeftovers = leftoverRows.Where(r => r.Outcome is "would reclaim" or "reclaimed").Sum(r => r.Leftover.Bytes);
            if (json)
            {
                Show.Json(new
                {
                    dryRun,
                    keep = matches.Select(m => new { entry = m.Keep, matched = m.Matched }),
                    adaptors = rows.Select(r => new { alias = r.Adaptor.Alias, bytes = r.Adaptor.Bytes, installedAt = r.Adaptor.InstalledAt, sentinelWritten = r.Adaptor.SentinelWritten, outcome = r.Outcome }),
                    leftovers = leftoverRows.Select(r => new { kind = r.Leftover.Kind, path = r.Leftover.Path, bytes = r.Leftover.Bytes, why = r.Leftover.Why, outcome = r.Outcome }),
                    bytes = freed,
                    leftoverBytes = freedLeftovers,
                });
            }
            else
            {
                if (matches.Count > 0)
                {
                    var keeps = new TextTable("KEEP", "MATCHES");
                    matches.ForEach(m => keeps.Add(m.Keep, m.Matched.Count == 0 ? "nothing installed" : string.Join(", ", m.Matched)));
                    keeps.WriteTo(Console.Out);
                    Console.Out.WriteLine();
                }

                var table = new TextTable("ADAPTOR", "VERSION", "SIZE", "SENTINEL WRITTEN", "OUTCOME");
                rows.ForEach(r => table.Add(r.Adaptor.Name, r.Adaptor.Version, Show.Bytes(r.Adaptor.Bytes), Show.Time(r.Adaptor.SentinelWritten), r.Outcome));
                table.WriteTo(Console.Out);
                if (leftoverRows.Count > 0)
                {
                    Console.Out.WriteLine();
                    var others = new TextTable("LEFTOVER", "SIZE", "OUTCOME", "WHY");
                    leftoverRows.ForEach(r => others.Add(r.Leftover.Path, Show.Bytes(r.Leftover.Bytes), r.Outcome, r.Leftover.Why));
                    others.WriteTo(Console.Out);
                }

                if (status.PackagesNotJudged is { } why)
                {
                    Console.Out.WriteLine($"Note: {why}.");
                }

                Console.Out.WriteLine(dryRun
                    ? $"Dry run: {rows.Count} adaptor(s) would be removed, {Show.Bytes(freed)} freed; {leftoverRows.Count} leftover(s) would be reclaimed, {Show.Bytes(freedLeftovers)}. Run again with --yes to remove them."
                    : $"{rows.Count(r => r.Outcome == "removed")} adaptor(s) removed, {Show.Bytes(freed)} freed; {reclaimed.Count} leftover(s) reclaimed, {Show.Bytes(freedLeftovers)}.");
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
