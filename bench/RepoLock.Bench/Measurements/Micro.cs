using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;

namespace RepoLock.Bench.Measurements;

/// <summary>Where the BenchmarkDotNet classes make their repos (set before BenchmarkDotNet runs them, in this process).</summary>
public static class MicroEnv
{
    public static string TempRoot { get; set; } = Path.GetTempPath();
}

/// <summary>1. The cache-hit path: a build whose adaptors are all installed.</summary>
[MemoryDiagnoser]
public class CacheHitBenchmarks
{
    private AdaptorRepo _repo = null!;
    private RepoLayout _layout = null!;
    private List<AdaptorSpecifier> _specs = null!;
    private string[] _aliases = null!;
    private string _root = "";

    [Params(1, 10, 100)]
    public int Installed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(MicroEnv.TempRoot, $"cache-hit-{Installed}-{Guid.NewGuid():N}");
        _layout = new RepoLayout(_root);
        // Pre-parsed specifiers, as the task hands them to the core after ResolveAsync (all exact: no npm).
        _specs = Enumerable.Range(0, Installed).Select(i => AdaptorSpecifier.Parse($"@fixture/language-a{i:000}@1.{i}.0")).ToList();
        _aliases = _specs.Select(s => s.Alias).ToArray();
        foreach (var spec in _specs)
        {
            Fixtures.FakeInstall(_layout, spec);
        }

        _repo = new AdaptorRepo(_layout, new RepoLockSettings { CreateRepoDir = true }, NullLog.Instance);
        var check = _repo.EnsureInstalledAsync(_specs, default).GetAwaiter().GetResult();
        if (check.Adaptors.Count != Installed || check.Adaptors.Any(a => a.Outcome != InstallOutcome.AlreadyInstalled))
        {
            throw new InvalidOperationException("the fabricated repo is not seen as installed");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    /// <summary>The real path: what EnsureAdaptorsInstalled calls on every build (dedupe, N checks, the summary line).</summary>
    [Benchmark]
    public Task<EnsureResult> EnsureInstalled() => _repo.EnsureInstalledAsync(_specs, CancellationToken.None);

    /// <summary>The raw check: RepoLayout.IsInstalled for each alias (two stats).</summary>
    [Benchmark]
    public int IsInstalled()
    {
        var n = 0;
        foreach (var alias in _aliases)
        {
            if (_layout.IsInstalled(alias))
            {
                n++;
            }
        }

        return n;
    }
}

/// <summary>3. One uncontended lock acquire + release on local disk, through the public API a caller uses, and its parts.</summary>
[MemoryDiagnoser]
public class LockBenchmarks
{
    private LockService _locks = null!;
    private LockOwnerRecord _record = null!;
    private string _target = "";
    private string _lockDir = "";
    private string _scratch = "";
    private string _root = "";
    private LockHandle? _held;
    private LockWaiter _waiter = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(MicroEnv.TempRoot, $"lock-{Guid.NewGuid():N}");
        var busy = new RepoLayout(_root).LockTarget("@fixture/language-beta_2.1.0");
        _target = new RepoLayout(_root).LockTarget("@fixture/language-alpha_1.0.0");
        _locks = new LockService(new LockSettings(), log: NullLog.Instance);
        _lockDir = LockService.LockDirFor(_target);
        _scratch = Path.Combine(Path.GetDirectoryName(_lockDir)!, "scratch.owner.json");
        var me = MachineIdentity.Current;
        _record = new LockOwnerRecord
        {
            Host = me.Host, MachineId = me.MachineId, ProcessId = me.ProcessId, ProcessStart = me.ProcessStart, Purpose = "install @fixture/language-alpha@1.0.0",
            AcquiredAt = DateTimeOffset.UtcNow, HeartbeatIntervalMs = 10_000, LastHeartbeatTicks = DateTime.UtcNow.Ticks, RepoLockVersion = RepoLockInfo.Version,
        };
        _held = _locks.AcquireAsync(busy, "held for the poll benchmark", "bench", CancellationToken.None).GetAwaiter().GetResult();
        _waiter = _locks.StartWaiting(busy, "bench");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _held?.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task AcquireRelease()
    {
        using var held = await _locks.AcquireAsync(_target, "bench", "bench", CancellationToken.None);
    }

    /// <summary>Part: proper-lockfile's lock path (create the target if missing, realpath).</summary>
    [Benchmark]
    public string LockPath() => LockService.LockDirFor(_target);

    /// <summary>Part: the lock itself, an atomic mkdir and an rmdir.</summary>
    [Benchmark]
    public void MkdirRmdir()
    {
        NativeFs.TryCreateDirectory(_lockDir);
        Directory.Delete(_lockDir);
    }

    /// <summary>Part: the owner record, written as AtomicFile does (temp file, fsync, rename) and deleted.</summary>
    [Benchmark]
    public void OwnerRecordWriteDelete()
    {
        _record.Write(_lockDir);
        LockOwnerRecord.Delete(_lockDir);
    }

    /// <summary>What a waiter pays per try of a lock a live holder has (a failed mkdir; every 3 s also a stat and the owner record read; the file server's clock probe once a minute).</summary>
    [Benchmark]
    public bool PollHeldLock() => _waiter.TryAcquire("bench") is not null;

    /// <summary>For comparison only: the same record written with temp file and rename but without the fsync.</summary>
    [Benchmark]
    public void OwnerRecordWithoutFsync()
    {
        var temp = _scratch + ".tmp";
        File.WriteAllText(temp, System.Text.Json.JsonSerializer.Serialize(_record));
        File.Move(temp, _scratch, overwrite: true);
        File.Delete(_scratch);
    }
}

/// <summary>
/// Runs measurements 1 and 3 with BenchmarkDotNet in this process, then samples single operations with a Stopwatch (the per-operation
/// median is not moved by the disk stalls other builds on a shared machine cause; BenchmarkDotNet's iteration means are).
/// </summary>
public static class Micro
{
    public static (Section CacheHit, Section Lock) Run(BenchContext ctx, bool cacheHit, bool lockToo)
    {
        var size = ctx.Size;
        MicroEnv.TempRoot = ctx.NewFolder("micro");
        var artifacts = ctx.NewFolder("bdn-artifacts");
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.DontLogOutput)
            .WithLaunchCount(1)
            .WithWarmupCount(size.BdnWarmups)
            .WithIterationCount(size.BdnIterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(size.BdnIterationTime.TotalMilliseconds))
            .WithStrategy(RunStrategy.Throughput)
            .WithId(ctx.Options.Smoke ? "smoke" : "short");
        var logPath = Path.Combine(artifacts, "benchmarkdotnet.log");
        using var logWriter = new StreamWriter(logPath);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(new StreamLogger(logWriter))
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile);

        var method = $"BenchmarkDotNet {typeof(BenchmarkRunner).Assembly.GetName().Version?.ToString(3)} in this process (InProcessEmitToolchain), " +
                     $"one launch, {size.BdnWarmups} warm-up and {size.BdnIterations} measured iterations of about {size.BdnIterationTime.TotalMilliseconds:0} ms each; " +
                     "\"BDN\" is the median over iterations of the mean time per operation. Then a Stopwatch times " +
                     $"{size.MicroSamples} single operations of the same code for the cache hit, {size.MicroSamples / 2} of each lock operation, one operation after the other " +
                     "(after a tenth as many untimed): \"p50\" and \"p99\" are their percentiles. " +
                     "Repos on the temp folder's local disk, page cache warm (the steady state of a build agent).";

        var types = new List<Type>();
        if (cacheHit)
        {
            types.Add(typeof(CacheHitBenchmarks));
        }

        if (lockToo)
        {
            types.Add(typeof(LockBenchmarks));
        }

        ctx.Progress($"BenchmarkDotNet: {string.Join(", ", types.Select(t => t.Name))} (log: {logPath})");
        var summaries = BenchmarkRunner.Run(types.ToArray(), config);
        var reports = summaries.SelectMany(s => s.Reports).ToList();

        var hit = new Section { Id = "cache-hit", Number = 1, Title = "Cache-hit check per adaptor (all installed, local disk)" };
        hit.Method = method + " `EnsureInstalledAsync` is the whole core call of a no-op build with pre-parsed exact specifiers; " +
                     "`IsInstalled` is the raw two-stat check (`.sentinels/<alias>.done` and `node_modules/<alias>/package.json`). Per adaptor = per call / adaptors.";
        hit.Columns = ["Adaptors installed", "EnsureInstalledAsync per call (BDN)", "per adaptor (BDN)", "per adaptor (p50 / p99)", "allocated per call", "IsInstalled per adaptor (BDN)"];
        var lockSection = new Section { Id = "lock", Number = 3, Title = "Uncontended lock acquire + release (LockService, local disk)" };
        lockSection.Method = method + " One `LockService.AcquireAsync` (lock path resolution, atomic mkdir, owner record) and `Dispose` " +
                             "(owner record delete, rmdir) with nobody else on the lock, and the parts of it measured alone.";
        lockSection.Columns = ["Operation", "BDN", "Share of the whole", "p50", "p99", "Allocated"];

        foreach (var s in summaries)
        {
            foreach (var e in s.ValidationErrors.Where(e => e.IsCritical))
            {
                (s.BenchmarksCases.Any(b => b.Descriptor.Type == typeof(LockBenchmarks)) ? lockSection : hit).Errors.Add($"BenchmarkDotNet: {e.Message}");
            }
        }

        if (cacheHit)
        {
            ctx.Progress("cache-hit: single-operation samples");
            foreach (var n in new[] { 1, 10, 100 })
            {
                var ensure = Find(reports, nameof(CacheHitBenchmarks.EnsureInstalled), n);
                var raw = Find(reports, nameof(CacheHitBenchmarks.IsInstalled), n);
                if (ensure?.ResultStatistics is null || raw?.ResultStatistics is null)
                {
                    hit.Errors.Add($"no BenchmarkDotNet result for {n} adaptor(s); see {logPath}");
                    continue;
                }

                var bench = new CacheHitBenchmarks { Installed = n };
                bench.Setup();
                var samples = Sample(size.MicroSamples, () => bench.EnsureInstalled());
                bench.Cleanup();

                var ensureUs = ensure.ResultStatistics.Median / 1000.0;
                var rawUs = raw.ResultStatistics.Median / 1000.0;
                var alloc = ensure.GcStats.GetBytesAllocatedPerOperation(ensure.BenchmarkCase) ?? 0;
                hit.Row(n.ToString(Fmt.Inv), Fmt.Us(ensureUs), Fmt.Us(ensureUs / n), $"{Fmt.Us(samples.P50 / n)} / {Fmt.Us(samples.P99 / n)}", $"{alloc / 1024.0:0.0} KiB", Fmt.Us(rawUs / n));
                hit.Figures.Add(new()
                {
                    ["installed"] = n,
                    ["ensureInstalledUsPerCall"] = Fmt.R(ensureUs),
                    ["ensureInstalledUsPerAdaptor"] = Fmt.R(ensureUs / n),
                    ["ensureInstalledUsPerAdaptorP50"] = Fmt.R(samples.P50 / n),
                    ["ensureInstalledUsPerAdaptorP99"] = Fmt.R(samples.P99 / n),
                    ["ensureInstalledBytesPerCall"] = alloc,
                    ["isInstalledUsPerAdaptor"] = Fmt.R(rawUs / n),
                });
                hit.Target($"cache-hit per adaptor, {n} installed (EnsureInstalledAsync)", "< 50 µs", $"{Fmt.Us(ensureUs / n)} (p50 {Fmt.Us(samples.P50 / n)})", ensureUs / n < 50,
                    ensureUs / n >= 50 && samples.P50 / n < 50 ? "the per-operation median meets it: iteration means carry disk stalls" : null);
            }
        }

        if (lockToo)
        {
            ctx.Progress("lock: single-operation samples");
            var bench = new LockBenchmarks();
            bench.Setup();
            var parts = new (string Method, string Label, Func<Task> Op)[]
            {
                (nameof(LockBenchmarks.AcquireRelease), "AcquireAsync + Dispose (the whole uncontended lock)", bench.AcquireRelease),
                (nameof(LockBenchmarks.LockPath), "part: lock path (create target if missing, realpath)", () => Task.FromResult(bench.LockPath())),
                (nameof(LockBenchmarks.MkdirRmdir), "part: mkdir + rmdir", () => { bench.MkdirRmdir(); return Task.CompletedTask; }),
                (nameof(LockBenchmarks.OwnerRecordWriteDelete), "part: owner record write (temp, rename; no fsync) + delete", () => { bench.OwnerRecordWriteDelete(); return Task.CompletedTask; }),
                (nameof(LockBenchmarks.OwnerRecordWithoutFsync), "for comparison: the same record, plain File.WriteAllText + rename", () => { bench.OwnerRecordWithoutFsync(); return Task.CompletedTask; }),
                (nameof(LockBenchmarks.PollHeldLock), "a waiter's try of a lock a live holder has (a failed mkdir; every 3 s a stat and a record read too; not part of the whole)", () => Task.FromResult(bench.PollHeldLock())),
            };
            double? whole = null;
            foreach (var (name, label, op) in parts)
            {
                var samples = Sample(size.MicroSamples / 2, op);
                var r = reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == name);
                if (r?.ResultStatistics is null)
                {
                    lockSection.Errors.Add($"no BenchmarkDotNet result for {name}; see {logPath}");
                    continue;
                }

                var medianUs = r.ResultStatistics.Median / 1000.0;
                whole ??= name == nameof(LockBenchmarks.AcquireRelease) ? medianUs : null;
                var alloc = r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0;
                lockSection.Row(label, Fmt.Us(medianUs), whole is { } w ? $"{100 * medianUs / w:0}%" : "", Fmt.Us(samples.P50), Fmt.Us(samples.P99), $"{alloc / 1024.0:0.0} KiB");
                lockSection.Figures.Add(new()
                {
                    ["operation"] = name,
                    ["medianUs"] = Fmt.R(medianUs),
                    ["meanUs"] = Fmt.R(r.ResultStatistics.Mean / 1000.0),
                    ["p50Us"] = Fmt.R(samples.P50),
                    ["p99Us"] = Fmt.R(samples.P99),
                    ["bytesAllocated"] = alloc,
                });
                if (name == nameof(LockBenchmarks.AcquireRelease))
                {
                    lockSection.Target("uncontended acquire + release", "< 1 ms", $"{Fmt.Us(medianUs)} (p50 {Fmt.Us(samples.P50)}, p99 {Fmt.Us(samples.P99)})", medianUs < 1000,
                        medianUs >= 1000 && samples.P50 < 1000 ? "the per-operation median meets it: iteration means carry disk stalls" : null);
                }
            }

            bench.Cleanup();
        }

        return (hit, lockSection);
    }

    /// <summary>Times <paramref name="count"/> single calls (after a tenth as many untimed); percentiles in µs.</summary>
    private static (double P50, double P99) Sample(int count, Func<Task> op)
    {
        for (var i = 0; i < Math.Max(1, count / 10); i++)
        {
            op().GetAwaiter().GetResult();
        }

        var us = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            op().GetAwaiter().GetResult();
            us[i] = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        Array.Sort(us);
        return (us[count / 2], us[Math.Min(count - 1, (int)(count * 0.99))]);
    }

    private static BenchmarkReport? Find(List<BenchmarkReport> reports, string method, int installed) =>
        reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                                    && r.BenchmarkCase.Parameters.Items.Any(p => p.Name == nameof(CacheHitBenchmarks.Installed) && Equals(p.Value, installed)));
}
