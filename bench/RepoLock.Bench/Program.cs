using System.Diagnostics;
using RepoLock.Bench.Infrastructure;
using RepoLock.Bench.Measurements;

// RepoLock's benchmark: see BenchOptions.Usage and docs/benchmarks.md.
// Child verbs (the bench starts itself as worker processes): child-baseline, child-counter.
switch (args.FirstOrDefault())
{
    case "child-baseline":
        return await Baselines.WorkerAsync(args[1..]);
    case "child-counter":
        return await Contention.WorkerAsync(args[1..]);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

var total = Stopwatch.StartNew();
var paths = BenchPaths.Find();
var machine = await MachineInfo.CaptureAsync();
var mode = options.Smoke ? "smoke" : "full";
var command = "dotnet run -c Release --project bench/RepoLock.Bench" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
var report = new Report { Mode = mode, Command = command, Machine = machine };
Console.WriteLine($"RepoLock bench ({mode}): {machine.Cores} cores, {machine.MemoryGiB:0.#} GiB, {machine.Os}, .NET SDK {machine.DotnetSdk}, node {machine.Node}, npm {machine.Npm}");
Console.WriteLine($"uptime before: {machine.Before.Uptime}; other dotnet/node processes: {machine.Before.OtherDotnetProcesses}/{machine.Before.OtherNodeProcesses}");
Console.WriteLine($"task dll: {paths.TaskDll}");

using (var ctx = new BenchContext(options, paths))
{
    async Task Measure(string[] ids, Func<Task<IEnumerable<Section>>> run, params (string Id, int Number, string Title)[] placeholders)
    {
        if (!ids.Any(options.Runs))
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var s in await run())
            {
                s.Seconds = clock.Elapsed.TotalSeconds;
                report.Sections.Add(s);
            }
        }
        catch (Exception e)
        {
            // A measurement that breaks is reported (and fails the run), the others still run.
            foreach (var p in placeholders.Where(p => options.Runs(p.Id)))
            {
                var s = new Section { Id = p.Id, Number = p.Number, Title = p.Title, Seconds = clock.Elapsed.TotalSeconds };
                s.Errors.Add($"{e.GetType().Name}: {e.Message}");
                report.Sections.Add(s);
            }

            Console.Error.WriteLine(e);
        }
    }

    // Quiet, in-process measurements first; then the ones that start processes.
    await Measure(["cache-hit", "lock"], () =>
    {
        var (hit, lck) = Micro.Run(ctx, options.Runs("cache-hit"), options.Runs("lock"));
        return Task.FromResult<IEnumerable<Section>>(new[] { hit, lck }.Where(s => options.Runs(s.Id)).ToList());
    }, ("cache-hit", 1, "Cache-hit check"), ("lock", 3, "Uncontended lock acquire + release"));

    await Measure(["recovery"], async () => [await Recovery.RunAsync(ctx)], ("recovery", 6, "Recovery after SIGKILL"));
    await Measure(["contention"], async () => [await Contention.RunAsync(ctx)], ("contention", 7, "Contention"));
    await Measure(["digest"], async () => [await DigestCost.RunAsync(ctx)], ("digest", 9, "Install digest cost"));
    await Measure(["waiting-calls"], async () => [await QuietWaiting.RunAsync(ctx)], ("waiting-calls", 10, "A waiting build on the wire"));
    await Measure(["fleet"], async () => [await Fleet.RunAsync(ctx)], ("fleet", 11, "A fleet on one export"));

    BuildFixture? fixture = null;
    string? installedRepo = null;
    async Task<(BuildFixture, string)> Builds()
    {
        installedRepo ??= await NoOpBuild.InstalledRepoAsync(ctx);
        fixture ??= await BuildFixture.CreateAsync(ctx, Math.Max(1, ctx.Size.ColdKs.DefaultIfEmpty(1).Max()));
        return (fixture, installedRepo);
    }

    await Measure(["noop-build"], async () =>
    {
        var (f, repo) = await Builds();
        return [await NoOpBuild.RunAsync(ctx, f, repo)];
    }, ("noop-build", 2, "No-op build overhead"));

    await Measure(["waiting-cpu"], async () =>
    {
        var (f, repo) = await Builds();
        return [await WaitingCpu.RunAsync(ctx, f, repo)];
    }, ("waiting-cpu", 8, "CPU of a waiting build"));

    List<RaceRun> coreRuns = [];
    await Measure(["cold-start"], async () =>
    {
        var (f, repo) = await Builds();
        var (section, runs) = await ColdStart.RunAsync(ctx, f, repo);
        coreRuns = runs;
        return [section];
    }, ("cold-start", 4, "Cold start"));

    await Measure(["baselines"], async () => [await Baselines.RunAsync(ctx, coreRuns)], ("baselines", 5, "Alternatives (baselines)"));
}

machine.After = await MachineInfo.BusyNowAsync();
report.TotalSeconds = total.Elapsed.TotalSeconds;

var outDir = options.Smoke ? Path.Combine(paths.ResultsDir, "smoke") : paths.ResultsDir;
var jsonPath = Path.Combine(outDir, "benchmarks.json");
var mdPath = options.Smoke || options.Partial ? Path.Combine(outDir, options.Smoke ? "benchmarks.md" : "benchmarks-partial.md") : Path.Combine(paths.DocsDir, "benchmarks.md");
if (!options.Smoke && options.Partial)
{
    jsonPath = Path.Combine(outDir, "benchmarks-partial.json"); // a partial run never replaces the published figures
}

report.WriteJson(jsonPath);
Directory.CreateDirectory(Path.GetDirectoryName(mdPath)!);
File.WriteAllText(mdPath, report.Markdown(options.Smoke ? "**This is a smoke run**: tiny sizes, to prove every measurement still works. Its figures mean nothing." : null));

Console.WriteLine(report.Console());
Console.WriteLine($"uptime after: {machine.After.Uptime}");
Console.WriteLine($"Wrote {jsonPath} and {mdPath}. Total {total.Elapsed.TotalSeconds:0} s.");
if (report.Broke)
{
    Console.WriteLine("FAILED: a measurement broke or a correctness check failed (see ERROR lines above).");
    return 1;
}

return 0;
