using System.CommandLine;
using System.Globalization;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary><c>repolock install [&lt;spec&gt;...] [--from &lt;file&gt;...]</c>: the very install a build does (<see cref="AdaptorRepo.EnsureInstalledAsync"/>), same options, same summary line.</summary>
internal static class InstallCommand
{
    public static Command Create()
    {
        var specs = new Argument<string[]>("spec") { Description = "Adaptors: name@version, name@latest/next, or a name (latest).", Arity = ArgumentArity.ZeroOrMore };
        var from = new Option<FileInfo[]>("--from")
        {
            Description = "OpenFn project files (project.yaml) or CLI workflows (workflow.json): install every adaptor their jobs name.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "file",
        };
        var registry = new Option<string?>("--registry") { Description = "npm registry URL (RepoLockRegistry).", HelpName = "url" };
        var offline = new Option<bool>("--offline") { Description = "Install from npm's cache only (RepoLockOffline)." };
        var maxParallel = new Option<int?>("--max-parallel") { Description = "Adaptors installed at once (RepoLockMaxParallel; default 4).", HelpName = "n" };
        var lockTimeout = new Option<int?>("--lock-timeout") { Description = "Seconds to wait for a lock a live peer keeps fresh (RepoLockLockTimeout; default 900).", HelpName = "seconds" };
        var installTimeout = new Option<int?>("--install-timeout") { Description = "Seconds one npm install may run (RepoLockInstallTimeout; default 600).", HelpName = "seconds" };
        var npmPath = new Option<string?>("--npm-path") { Description = "The npm executable (RepoLockNpmPath).", HelpName = "path" };
        var createRepo = new Option<bool>("--create-repo") { Description = "Create the repo folder if it does not exist (RepoLockCreateRepoDir); without it a missing folder is RL1003 (is the share mounted?)." };
        var ignoreScripts = new Option<bool?>("--ignore-scripts")
        {
            Description = "Run npm with --ignore-scripts (RepoLockIgnoreScripts; default true, as OpenFn installs adaptors). --ignore-scripts false runs lifecycle scripts.",
            HelpName = "true|false",
        };
        var command = new Command("install", "Install adaptors exactly as a build does: same specifiers, tags resolved, same locks, same summary line.");
        command.Arguments.Add(specs);
        foreach (var option in new Option[] { from, registry, offline, maxParallel, lockTimeout, CommonOptions.StaleAge, installTimeout, npmPath, ignoreScripts, createRepo })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellationToken) =>
        {
            static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);
            var settings = CommonOptions.Settings(parsed, new Dictionary<string, string?>
            {
                ["RepoLockRegistry"] = parsed.GetValue(registry),
                ["RepoLockOffline"] = parsed.GetValue(offline) ? "true" : null,
                ["RepoLockMaxParallel"] = Text(parsed.GetValue(maxParallel)),
                ["RepoLockLockTimeout"] = Text(parsed.GetValue(lockTimeout)),
                ["RepoLockInstallTimeout"] = Text(parsed.GetValue(installTimeout)),
                ["RepoLockNpmPath"] = parsed.GetValue(npmPath),
                ["RepoLockCreateRepoDir"] = parsed.GetValue(createRepo) ? "true" : null,
                ["RepoLockIgnoreScripts"] = parsed.GetValue(ignoreScripts) is { } ignore ? (ignore ? "true" : "false") : null,
            });
            var list = ProjectFileOptions.Merge(parsed.GetValue(specs), parsed.GetValue(from)); // all parsed before anything is written
            if (list is null || list.Adaptors.Count == 0)
            {
                if (list is not null)
                {
                    await Console.Error.WriteLineAsync("repolock: no adaptors to install: give specifiers, or --from files whose jobs name adaptors.").ConfigureAwait(false);
                }

                return RepoLockCli.Refused;
            }

            var json = parsed.GetValue(CommonOptions.Json);
            var repo = new AdaptorRepo(CommonOptions.RepoOf(parsed), settings, new ConsoleLog(json ? Console.Error : Console.Out));
            var result = await repo.EnsureInstalledAsync(list.Adaptors, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                Show.Json(new
                {
                    repo = repo.Root,
                    adaptors = result.Adaptors.Select(r => new
                    {
                        alias = r.Adaptor.Alias, name = r.Adaptor.Name, version = r.Adaptor.VersionText, outcome = r.Outcome,
                        durationMs = (long)r.Duration.TotalMilliseconds, path = r.AdaptorPath, sentinel = r.SentinelPath,
                    }),
                    failures = result.Failures.Select(f => new { code = f.Code, message = f.Message }),
                });
            }

            foreach (var failure in result.Failures)
            {
                await Console.Error.WriteLineAsync(ProjectFileOptions.Line(list.Locate(failure))).ConfigureAwait(false); // where a --from file names it
            }

            return result.Succeeded ? RepoLockCli.Fine : RepoLockCli.Problems;
        });
        return command;
    }
}
