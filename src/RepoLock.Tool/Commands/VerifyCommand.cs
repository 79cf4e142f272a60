using System.CommandLine;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary><c>repolock verify [--fix]</c>: names each problem and its adaptor; with --fix repairs what is safe under the locks. Exit 1 while problems remain.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var fix = new Option<bool>("--fix") { Description = "Repair what is safe, each adaptor under its lock: list missing manifest entries, remove damaged adaptors (the next build reinstalls them), delete debris." };
        var registry = new Option<bool>("--registry")
        {
            Description = "Also check what no install digest covers (adaptors a Node worker installed, packages hoisted outside an adaptor's folder) " +
                          "against the published tarballs, fetched with npm pack through npm's cache and configured registry.",
        };
        var offline = new Option<bool>("--offline") { Description = "With --registry: npm's cache only (npm --offline)." };
        var command = new Command("verify", "Check every adaptor (package.json, dependency closure, manifest entry), sentinels, folders, manifest entries and debris.");
        command.Options.Add(fix);
        command.Options.Add(registry);
        command.Options.Add(offline);
        command.Options.Add(CommonOptions.StaleAge);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var repo = CommonOptions.RepoOf(parsed);
            var settings = CommonOptions.Settings(parsed, new Dictionary<string, string?> { ["RepoLockOffline"] = parsed.GetValue(offline) ? "true" : null })
                with { VerifyAgainstRegistry = parsed.GetValue(registry) };
            var json = parsed.GetValue(CommonOptions.Json);
            var inspector = new RepoInspector(repo, settings);
            var found = inspector.Verify(Progress(json));
            var fixing = parsed.GetValue(fix);
            if (!json)
            {
                Write(found, Console.Out);
            }

            IReadOnlyList<RepoProblem> left = found;
            if (fixing && found.Count > 0)
            {
                var log = new ConsoleLog(json ? Console.Error : Console.Out);
                await new RepoMaintenance(repo, settings, log).FixAsync(found, cancellationToken).ConfigureAwait(false);
                left = inspector.Verify();
                if (!json)
                {
                    Console.Out.WriteLine(left.Count == 0 ? "After --fix: no problems left." : $"After --fix: {left.Count} problem(s) left:");
                    if (left.Count > 0)
                    {
                        Write(left, Console.Out);
                    }
                }
            }

            if (json)
            {
                Show.Json(new { repo = inspector.Root, problems = found, fix = fixing, left });
            }

            return left.Count == 0 ? RepoLockCli.Fine : RepoLockCli.Problems;
        });
        return command;
    }

    private static void Write(IReadOnlyList<RepoProblem> problems, TextWriter output)
    {
        if (problems.Count == 0)
        {
            output.WriteLine("No problems found.");
            return;
        }

        var table = new TextTable("PROBLEM", "ADAPTOR", "DETAIL", "PATH");
        foreach (var p in problems)
        {
            table.Add(p.Kind.ToString(), p.Alias ?? "-", p.Detail, p.Path);
        }

        table.WriteTo(output);
        var debris = problems.Count(p => p.Kind == RepoProblemKind.Debris);
        output.WriteLine($"{problems.Count} problem(s): {problems.Where(p => p.Alias is not null).Select(p => p.Alias).Distinct().Count()} adaptor(s), {debris} debris.");
    }

    /// <summary>On a terminal, one overwritten line per adaptor checked (a long verify shows it is moving); nothing when redirected.</summary>
    private static Progress<string>? Progress(bool json) =>
        json || Console.IsErrorRedirected ? null : new Progress<string>(alias => Console.Error.Write($"\rchecking {alias}\u001b[K"));
}
