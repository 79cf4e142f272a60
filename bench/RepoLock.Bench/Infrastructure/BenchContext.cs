using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Tests.Npm;

namespace RepoLock.Bench.Infrastructure;

/// <summary>What every measurement shares: options, paths, a temporary folder, the in-process fake registry, progress output.</summary>
public sealed class BenchContext : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lazy<FakeNpmRegistry> _registry;
    private int _folders;

    public BenchContext(BenchOptions options, BenchPaths paths)
    {
        Options = options;
        Paths = paths;
        TempRoot = Path.Combine(Path.GetTempPath(), $"repolock-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(TempRoot);
        _registry = new Lazy<FakeNpmRegistry>(() => Fixtures.StartRegistry());
    }

    public BenchOptions Options { get; }

    public BenchPaths Paths { get; }

    public Sizes Size => Options.Size;

    public string TempRoot { get; }

    /// <summary>One registry for the whole run, in this process; measurements set its latency and count requests as deltas.</summary>
    public FakeNpmRegistry Registry => _registry.Value;

    /// <summary>A new empty folder under the temporary root.</summary>
    public string NewFolder(string name)
    {
        var path = Path.Combine(TempRoot, $"{Interlocked.Increment(ref _folders):000}-{name}");
        Directory.CreateDirectory(path);
        return path;
    }

    public void Progress(string message) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    public void Dispose()
    {
        if (_registry.IsValueCreated)
        {
            _registry.Value.Dispose();
        }

        if (Options.KeepTemp)
        {
            Console.WriteLine($"Kept {TempRoot}");
            return;
        }

        try
        {
            Directory.Delete(TempRoot, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"Could not remove {TempRoot}: {e.Message}");
        }
    }
}

/// <summary>The fixture adaptors: four small packages on the fake registry, each with one shared dependency, like OpenFn adaptors on language-common.</summary>
internal static class Fixtures
{
    public const string SharedDependency = "@fixture/adaptor-util";

    public const int AdaptorCount = 4;

    public static readonly IReadOnlyList<AdaptorSpecifier> Adaptors =
    [
        AdaptorSpecifier.Parse("@fixture/language-alpha@1.0.0"),
        AdaptorSpecifier.Parse("@fixture/language-beta@2.1.0"),
        AdaptorSpecifier.Parse("@fixture/language-gamma@0.9.3"),
        AdaptorSpecifier.Parse("@fixture/language-delta@5.0.0"),
    ];

    public static FakeNpmRegistry StartRegistry()
    {
        var registry = FakeNpmRegistry.Start();
        registry.AddPackage(SharedDependency, "1.4.0");
        foreach (var a in Adaptors)
        {
            registry.AddPackage(a.Name, a.VersionText, new Dictionary<string, string> { [SharedDependency] = "^1.0.0" });
        }

        return registry;
    }

    /// <summary>Tarball requests per adaptor name so far (compare two snapshots: one request is one npm install that downloaded it).</summary>
    public static Dictionary<string, int> TarballSnapshot(FakeNpmRegistry registry) =>
        Adaptors.ToDictionary(a => a.Alias, a => registry.TarballRequests(a.Name));

    /// <summary>What an install leaves for the cache-hit check, without npm: the adaptor's package.json and the sentinel.</summary>
    public static void FakeInstall(RepoLayout layout, AdaptorSpecifier spec)
    {
        Directory.CreateDirectory(layout.AdaptorDir(spec.Alias));
        File.WriteAllText(layout.AdaptorManifest(spec.Alias), $"{{ \"name\": \"{spec.Name}\", \"version\": \"{spec.VersionText}\" }}\n");
        Directory.CreateDirectory(layout.SentinelsDir);
        Sentinel.For(spec, null, MachineIdentity.Current, DateTimeOffset.UtcNow).Write(layout.SentinelPath(spec.Alias));
    }

    /// <summary>The end state every reader of the repo relies on, per alias: listed in package.json, its package.json present, its sentinel present.</summary>
    public static RepoState Inspect(string repo, IReadOnlyList<AdaptorSpecifier>? adaptors = null)
    {
        adaptors ??= Adaptors;
        var layout = new RepoLayout(repo);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (RepoManifest.Read(layout.ManifestPath)?["dependencies"] is System.Text.Json.Nodes.JsonObject deps)
            {
                listed.UnionWith(deps.Select(d => d.Key));
            }
        }
        catch (RepoLockException)
        {
            // not valid JSON any more (a race of concurrent writers): nothing is listed
        }

        return new RepoState(
            adaptors.Where(a => !listed.Contains(a.Alias)).Select(a => a.Alias).ToList(),
            adaptors.Where(a => !File.Exists(layout.AdaptorManifest(a.Alias))).Select(a => a.Alias).ToList(),
            adaptors.Where(a => !File.Exists(layout.SentinelPath(a.Alias))).Select(a => a.Alias).ToList());
    }
}

public sealed record RepoState(IReadOnlyList<string> NotInManifest, IReadOnlyList<string> NotInNodeModules, IReadOnlyList<string> NoSentinel);
