using System.Text.Json;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>
/// 5. The obvious alternatives on the same workload, as baselines inside the benchmark only: npm install run in the repo root (as the OpenFn
/// runtime does) under (a) one repo-wide lock, (b) one lock per alias. Each worker is a child process of this bench (<c>child-baseline</c>).
/// </summary>
public static class Baselines
{
    public const string Global = "global";
    public const string PerAlias = "per-alias";

    public static async Task<Section> RunAsync(BenchContext ctx, IReadOnlyList<RaceRun> coreRuns)
    {
        var size = ctx.Size;
        ctx.Registry.TarballLatency = size.TarballLatency;
        var section = new Section { Id = "baselines", Number = 5, Title = "Alternatives on the same workload (baselines, not product modes)" };
        section.Method =
            $"Same workload as 4 (K processes, the same {Fixtures.AdaptorCount} adaptors, empty repo, TarballLatency {size.TarballLatency.TotalSeconds:0.0#} s, own npm cache each). " +
            "Each worker handles its adaptors concurrently, like a build; per adaptor it takes a lock (LockService, the same proper-lockfile protocol), skips the adaptor if " +
            "`node_modules/<alias>/package.json` exists, else runs `npm install --no-audit --no-fund --no-package-lock <alias>@npm:<name>@<version>` **in the repo root** " +
            "(a `package.json` with empty dependencies is there from the start), then releases. " +
            "(a) **one global lock**: a single repo-wide lock target, so installs are serial but safe. (b) **per-alias locks**: one lock per alias, so different aliases install " +
            "at once into the same root. RepoLock's row is the TestHost driver from 4 (the core in child processes, same workload). " +
            "Failed = npm runs that exited non-zero; not in package.json / not in node_modules = aliases missing at the end; " +
            "pruned = aliases whose npm install succeeded but that are gone from node_modules at the end (another npm run removed them as extraneous).";
        section.Columns = ["Strategy", "K", "Wall", "npm runs", "Failed installs", "Not in package.json", "Not in node_modules", "Pruned", "Downloads per alias"];

        foreach (var k in size.BaselineKs)
        {
            var core = coreRuns.Where(r => r.K == k).ToList();
            if (core.Count > 0)
            {
                var wall = Fmt.Median(core.Select(r => r.WallSeconds));
                var last = core[^1];
                section.Row("RepoLock (core in K processes)", k.ToString(Fmt.Inv), Fmt.S(wall), $"{last.Downloads.Values.Sum()}", $"{core.Sum(r => r.Failures)}",
                    $"{last.State.NotInManifest.Count}", $"{last.State.NotInNodeModules.Count}", "0", Downloads(last.Downloads));
                section.Figures.Add(new()
                {
                    ["strategy"] = "repolock",
                    ["k"] = k,
                    ["wallSeconds"] = Fmt.R(wall),
                    ["failedInstalls"] = core.Sum(r => r.Failures),
                    ["notInPackageJson"] = last.State.NotInManifest.Count,
                    ["notInNodeModules"] = last.State.NotInNodeModules.Count,
                    ["downloadsPerAlias"] = last.Downloads,
                });
            }

            foreach (var mode in new[] { Global, PerAlias })
            {
                var run = await RaceAsync(ctx, mode, k);
                var results = run.Race.Results.SelectMany(r => ParseLines(r.Stdout)).ToList();
                var npmRuns = results.Count(r => r.Outcome is "installed" or "failed");
                var failed = results.Count(r => r.Outcome == "failed");
                var succeeded = results.Where(r => r.Outcome == "installed").Select(r => r.Alias).ToHashSet();
                var pruned = succeeded.Where(a => run.Race.State.NotInNodeModules.Contains(a)).ToList();
                var label = mode == Global ? "(a) npm in root, one global lock" : "(b) npm in root, per-alias locks";
                section.Row(label, k.ToString(Fmt.Inv), Fmt.S(run.Race.WallSeconds), npmRuns.ToString(Fmt.Inv), failed.ToString(Fmt.Inv),
                    run.Race.State.NotInManifest.Count.ToString(Fmt.Inv), run.Race.State.NotInNodeModules.Count.ToString(Fmt.Inv), pruned.Count.ToString(Fmt.Inv),
                    Downloads(run.Race.Downloads));
                section.Figures.Add(new()
                {
                    ["strategy"] = mode,
                    ["k"] = k,
                    ["wallSeconds"] = Fmt.R(run.Race.WallSeconds),
                    ["npmRuns"] = npmRuns,
                    ["failedInstalls"] = failed,
                    ["notInPackageJson"] = run.Race.State.NotInManifest,
                    ["notInNodeModules"] = run.Race.State.NotInNodeModules,
                    ["pruned"] = pruned,
                    ["downloadsPerAlias"] = run.Race.Downloads,
                    ["workerExitCodes"] = run.Race.Results.Select(r => r.ExitCode).ToList(),
                    ["firstErrors"] = results.Where(r => r.Error is not null).Select(r => r.Error).Distinct().Take(3).ToList(),
                });
                ctx.Progress($"baseline {mode}, K={k}: {run.Race.WallSeconds:0.00} s, {npmRuns} npm runs, {failed} failed, " +
                             $"{run.Race.State.NotInManifest.Count} not in package.json, {pruned.Count} pruned");
                if (run.Race.Results.Any(r => r.ExitCode is not (0 or 1)))
                {
                    section.Errors.Add($"baseline {mode}, K={k}: a worker crashed: {run.Race.Results.First(r => r.ExitCode is not (0 or 1)).Tail(10)}");
                }
            }
        }

        section.Notes.Add("(b)'s losses come from npm itself, not from the locks: an npm run in the repo root reads package.json and node_modules when it starts and " +
                          "writes the whole tree back when it ends, so concurrent runs overwrite each other's package.json entries (last writer wins), remove each other's " +
                          "fresh folders as extraneous (pruned), or fail renaming into a folder another run just replaced. (a) is safe because only one npm runs at a time, " +
                          "and pays for it in wall time. RepoLock runs npm only in private staging folders, so its installs neither wait for nor undo each other.");
        var errors = section.Figures.Where(f => f["strategy"] as string == PerAlias).SelectMany(f => (IEnumerable<string>)f["firstErrors"]!).Distinct().Take(3).ToList();
        if (errors.Count > 0)
        {
            section.Notes.Add("npm's errors in (b): " + string.Join(" / ", errors.Select(e => $"`{e}`")));
        }

        return section;
    }

    /// <summary>npm's own message (the line that says what happened, not just the code), with the repo's path shortened.</summary>
    private static string FirstError(string output, string repo)
    {
        var lines = NpmClient.ErrorLines(output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Replace(repo, "<repo>", StringComparison.Ordinal)).ToList();
        var message = lines.FirstOrDefault(l => !System.Text.RegularExpressions.Regex.IsMatch(l, @"^npm (error|ERR!) (code|errno|syscall|path|dest)\b")) ?? lines.FirstOrDefault() ?? "";
        var code = lines.FirstOrDefault(l => l.Contains(" code ", StringComparison.Ordinal));
        var text = code is not null && code != message ? $"{code}: {message}" : message;
        return text.Length > 220 ? text[..220] + "…" : text;
    }

    private static string Downloads(IReadOnlyDictionary<string, int> d) => string.Join("/", d.Values.Select(v => v.ToString(Fmt.Inv)));

    private static async Task<(RaceRun Race, int K)> RaceAsync(BenchContext ctx, string mode, int k)
    {
        var race = await ColdStart.RaceAsync(ctx, $"baseline {mode}", k, Fixtures.Adaptors,
            (i, repo, cache) => ChildProcess.Start("dotnet", [ctx.Paths.BenchDll, "child-baseline", mode, repo, ctx.Registry.Url, cache, .. Fixtures.Adaptors.Select(a => a.ToString())]),
            prepare: repo =>
            {
                Directory.CreateDirectory(repo);
                File.WriteAllText(Path.Combine(repo, "package.json"), "{\n  \"name\": \"openfn-repo\",\n  \"private\": true,\n  \"dependencies\": {}\n}\n");
            });
        return (race, k);
    }

    private sealed record WorkerLine(string Alias, string Outcome, int? Exit, string? Error);

    private static IEnumerable<WorkerLine> ParseLines(string stdout)
    {
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            WorkerLine? parsed = null;
            try
            {
                parsed = JsonSerializer.Deserialize<WorkerLine>(line, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
            }
            catch (JsonException)
            {
            }

            if (parsed is not null)
            {
                yield return parsed;
            }
        }
    }

    /// <summary>The worker: <c>child-baseline &lt;global|per-alias&gt; &lt;repo&gt; &lt;registry&gt; &lt;npmCache&gt; &lt;spec&gt;...</c>; one JSON line per adaptor.</summary>
    public static async Task<int> WorkerAsync(string[] args)
    {
        var (mode, repo, registry, cache) = (args[0], args[1], args[2], args[3]);
        var layout = new RepoLayout(repo);
        var locks = new LockService(new LockSettings { Timeout = TimeSpan.FromMinutes(5) });
        var specs = args.Skip(4).Select(s => AdaptorSpecifier.Parse(s)).ToList();
        var output = new object();
        var tasks = specs.Select(async spec =>
        {
            await Task.Yield();
            var target = mode == Global ? Path.Combine(layout.LocksDir, "repo.lock") : layout.LockTarget(spec.Alias);
            WorkerLine line;
            using (await locks.AcquireAsync(target, $"baseline install {spec}", spec.ToString(), CancellationToken.None))
            {
                if (File.Exists(layout.AdaptorManifest(spec.Alias)))
                {
                    line = new WorkerLine(spec.Alias, "present", null, null);
                }
                else
                {
                    var result = await ChildProcess.RunAsync("npm",
                        ["install", "--no-audit", "--no-fund", "--no-package-lock", "--registry", registry, "--cache", cache, $"{spec.Alias}@npm:{spec.Name}@{spec.VersionText}"],
                        repo, timeout: TimeSpan.FromMinutes(3));
                    line = result.ExitCode == 0
                        ? new WorkerLine(spec.Alias, "installed", 0, null)
                        : new WorkerLine(spec.Alias, "failed", result.ExitCode, FirstError(result.Output, repo));
                }
            }

            lock (output)
            {
                Console.WriteLine(JsonSerializer.Serialize(line, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            }

            return line;
        }).ToList();
        var lines = await Task.WhenAll(tasks);
        return lines.Any(l => l.Outcome == "failed") ? 1 : 0;
    }
}
