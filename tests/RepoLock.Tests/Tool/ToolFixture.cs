using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Tool;

/// <summary>The tool packed and installed once, a fake registry with small fixture adaptors, and repos filled by real installs.</summary>
public sealed class ToolFixture : IDisposable
{
    public const string Alpha = "@fixture/language-alpha";
    public const string Beta = "@fixture/language-beta";
    public const string Gamma = "@fixture/language-gamma";
    public const string Dep = "@fixture/dep-one";

    private readonly TempDir _dir = new("toolrepos");

    public ToolFixture()
    {
        Registry = FakeNpmRegistry.Start()
            .AddPackage(Dep, "2.1.0")
            .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { [Dep] = "^2.0.0" })
            .AddPackage(Beta, "1.2.0")
            .AddPackage(Gamma, "1.0.0");
        Tool = new PackedTool();
    }

    public PackedTool Tool { get; }

    public FakeNpmRegistry Registry { get; }

    public TempDir NpmCache { get; } = new("toolnpm");

    /// <summary>The environment a tool run needs to install from the fake registry into its own npm cache.</summary>
    public Dictionary<string, string?> Env => new() { ["npm_config_cache"] = NpmCache.Path };

    public RepoLockSettings Settings => new() { Registry = Registry.Url, NpmCacheDir = NpmCache.Path, LockTimeout = TimeSpan.FromSeconds(120) };

    /// <summary>A fresh repo filled with <paramref name="specs"/> by the core, the way a build fills it.</summary>
    internal async Task<RepoLayout> FilledRepoAsync(params string[] specs)
    {
        var layout = new RepoLayout(_dir.Combine(Guid.NewGuid().ToString("N")[..12]));
        Directory.CreateDirectory(layout.Root);
        await InstallAsync(layout, specs);
        return layout;
    }

    internal async Task<EnsureResult> InstallAsync(RepoLayout layout, params string[] specs)
    {
        var result = await new AdaptorRepo(layout.Root, Settings).EnsureInstalledAsync(specs.Select(s => AdaptorSpecifier.Parse(s)).ToList());
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
        return result;
    }

    public string NewFolder(string name)
    {
        var path = _dir.Combine(name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        Tool.Dispose();
        Registry.Dispose();
        NpmCache.Dispose();
        _dir.Dispose();
    }
}
