using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Install;

/// <summary>A fake registry with fixture adaptors, a fresh repo, and an AdaptorRepo that talks to them through the real npm CLI.</summary>
public sealed class InstallFixture : IDisposable
{
    public InstallFixture()
    {
        Registry = FakeNpmRegistry.Start();
        Registry.AddPackage("@fixture/dep-one", "2.1.0");
        Registry.AddPackage("@fixture/language-alpha", "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0" });
        Registry.AddPackage("@fixture/language-beta", "1.2.0");
        Registry.AddPackage("@fixture/language-beta", "2.0.0-rc.1", distTag: "next");
        for (var i = 0; i < 4; i++)
        {
            Registry.AddPackage($"@fixture/language-p{i}", "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0" });
        }

        Registry.AddPackage("@fixture/missing", "1.0.0");
        Registry.FailWith("@fixture/missing", 404);
        Registry.AddPackage("@fixture/broken", "1.0.0");
        Registry.FailWith("@fixture/broken", 500);
        Registry.AddPackage("@fixture/hangs", "1.0.0");
        Registry.Hang("@fixture/hangs");
    }

    public FakeNpmRegistry Registry { get; }

    public TempDir NpmCache { get; } = new("npmcache");

    public RepoLockSettings Settings(TimeSpan? installTimeout = null, Action<string, AdaptorSpecifier>? checkpoint = null, int maxParallel = 4) => new()
    {
        PollInterval = TimeSpan.FromMilliseconds(50),
        LockTimeout = TimeSpan.FromSeconds(120),
        Registry = Registry.Url,
        NpmCacheDir = NpmCache.Path,
        InstallTimeout = installTimeout ?? TimeSpan.FromSeconds(120),
        MaxParallel = maxParallel,
        Checkpoint = checkpoint,
        CreateRepoDir = true,
    };

    public void Dispose()
    {
        Registry.Dispose();
        NpmCache.Dispose();
    }
}

/// <summary>Counts (and forwards) every process start, to prove the cache-hit path runs none.</summary>
internal sealed class CountingRunner : IProcessRunner
{
    private int _count;

    public int Count => _count;

    public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return ProcessRunner.Instance.RunAsync(spec, cancellationToken);
    }
}
