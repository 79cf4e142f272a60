namespace RepoLock.Bench.Infrastructure;

/// <summary>Command-line options of the bench and the sizes of each measurement in a full and a smoke run.</summary>
public sealed record BenchOptions
{
    public bool Smoke { get; init; }

    /// <summary>Run only these measurements (ids such as cache-hit, lock, noop-build, cold-start, baselines, recovery, contention, waiting-cpu, digest).</summary>
    public IReadOnlySet<string>? Only { get; init; }

    /// <summary>Keep the temporary folder (repos, projects, npm caches) for inspection.</summary>
    public bool KeepTemp { get; init; }

    public bool Help { get; init; }

    /// <summary>Overrides the fake registry's tarball latency (seconds) for 4 and 5: how the figures move from a CPU-bound to a network-bound install.</summary>
    public double? LatencySeconds { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--smoke" => options with { Smoke = true },
                "--keep-temp" => options with { KeepTemp = true },
                "--only" when i + 1 < args.Length => options with { Only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet() },
                "--latency" when i + 1 < args.Length => options with { LatencySeconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture) },
                "-h" or "--help" => options with { Help = true },
                _ => throw new ArgumentException($"unknown option '{args[i]}' (try --help)"),
            };
        }

        return options;
    }

    public const string Usage = """
        RepoLock benchmark.

          dotnet run -c Release --project bench/RepoLock.Bench                 full run (about 16 minutes on 2 cores); writes
                                                                               bench/results/benchmarks.json and docs/benchmarks.md
          dotnet run -c Release --project bench/RepoLock.Bench -- --smoke      a tiny version of every measurement (under a minute);
                                                                               writes bench/results/smoke/ only
        Options:
          --only a,b      run only these measurements: cache-hit, lock, noop-build, cold-start, baselines, recovery, contention,
                          waiting-cpu, waiting-calls, fleet (needs root, sshd, sshfs), digest (the real
                          @openfn/language-http from the npm registry)
          --keep-temp     keep the temporary folder (repos, projects, npm caches)
          --latency S     tarball latency of the fake registry in seconds for 4 and 5 (default 1.5; smoke 0.2)
        A run with --only or --latency writes bench/results/benchmarks-partial.* and leaves the published figures alone.
        Exit code: 0 when every measurement ran (targets missed or not); 1 when one broke or a correctness check failed.
        """;

    public bool Runs(string id) => Only is null || Only.Contains(id);

    public Sizes Size
    {
        get
        {
            var size = Smoke ? Sizes.SmokeRun : Sizes.FullRun;
            return LatencySeconds is { } latency ? size with { TarballLatency = TimeSpan.FromSeconds(latency) } : size;
        }
    }

    /// <summary>A run that does not produce the published figures (only some measurements, or other sizes).</summary>
    public bool Partial => Only is not null || LatencySeconds is not null;
}

/// <summary>How much each measurement does. Full: the figures in docs/benchmarks.md. Smoke: just enough to prove each one still works.</summary>
public sealed record Sizes
{
    // 1 and 3: BenchmarkDotNet in-process job.
    public required int BdnWarmups { get; init; }
    public required int BdnIterations { get; init; }
    public required TimeSpan BdnIterationTime { get; init; }
    public required int MicroSamples { get; init; }

    // 2: A/B pairs of no-op builds (after one untimed pair), and builds with MSBuild's performance summary.
    public required int NoOpPairs { get; init; }
    public required int NoOpSummaryBuilds { get; init; }

    // 4 and 5.
    public required TimeSpan TarballLatency { get; init; }
    public required int[] ColdKs { get; init; }
    public required int ColdRepeats { get; init; }
    public required int FloorRepeats { get; init; }
    public required int NoOpKRepeats { get; init; }
    public required int[] CoreKs { get; init; }
    public required int[] BaselineKs { get; init; }

    // 6.
    public required int RecoveryRepeats { get; init; }

    // 7.
    public required int ContentionProcesses { get; init; }
    public required int ContentionRounds { get; init; }
    public required int[] ContentionPollMs { get; init; }

    // 8: pairs of waiting and no-op builds (after one untimed pair), and how long the waiting build waits.
    public required int WaitingPairs { get; init; }
    public required double WaitingSeconds { get; init; }

    // 11: waiters per run, and the steady-state window after the go (once their pauses have grown).
    public required int[] FleetNs { get; init; }
    public required TimeSpan FleetWarmUp { get; init; }
    public required TimeSpan FleetWindow { get; init; }
    public required int FleetHandOvers { get; init; }

    public static readonly Sizes FullRun = new()
    {
        BdnWarmups = 2,
        BdnIterations = 5,
        BdnIterationTime = TimeSpan.FromMilliseconds(200),
        MicroSamples = 2000,
        NoOpPairs = 10,
        NoOpSummaryBuilds = 2,
        TarballLatency = TimeSpan.FromSeconds(1.5),
        ColdKs = [1, 4, 8],
        ColdRepeats = 5,
        FloorRepeats = 3,
        NoOpKRepeats = 2,
        CoreKs = [1, 4, 8],
        BaselineKs = [1, 4, 8],
        RecoveryRepeats = 5,
        ContentionProcesses = 8,
        ContentionRounds = 200,
        ContentionPollMs = [200, 5],
        WaitingPairs = 5,
        WaitingSeconds = 5,
        FleetNs = [8, 32, 64],
        FleetWarmUp = TimeSpan.FromSeconds(10),
        FleetWindow = TimeSpan.FromSeconds(20),
        FleetHandOvers = 5,
    };

    public static readonly Sizes SmokeRun = new()
    {
        BdnWarmups = 1,
        BdnIterations = 2,
        BdnIterationTime = TimeSpan.FromMilliseconds(25),
        MicroSamples = 50,
        NoOpPairs = 1,
        NoOpSummaryBuilds = 0,
        TarballLatency = TimeSpan.FromSeconds(0.2),
        ColdKs = [2],
        ColdRepeats = 1,
        FloorRepeats = 1,
        NoOpKRepeats = 1,
        CoreKs = [2],
        BaselineKs = [2],
        RecoveryRepeats = 1,
        ContentionProcesses = 8,
        ContentionRounds = 10,
        ContentionPollMs = [200, 5],
        WaitingPairs = 1,
        WaitingSeconds = 2,
        FleetNs = [2],
        FleetWarmUp = TimeSpan.FromSeconds(2),
        FleetWindow = TimeSpan.FromSeconds(3),
        FleetHandOvers = 1,
    };
}
