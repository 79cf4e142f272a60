namespace RepoLock.Core.Npm;

/// <summary>How npm is run (made from <see cref="RepoLockSettings"/>).</summary>
internal sealed record NpmSettings
{
    /// <summary>The npm executable; found on PATH by default.</summary>
    public static readonly string DefaultNpmPath = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";

    public string NpmPath { get; init; } = DefaultNpmPath;

    /// <summary>Registry URL, or null for npm's own configuration.</summary>
    public string? Registry { get; init; }

    /// <summary>Install only from npm's cache (--offline).</summary>
    public bool Offline { get; init; }

    public TimeSpan InstallTimeout { get; init; } = RepoLockSettings.DefaultInstallTimeout;

    /// <summary>Pass --ignore-scripts to npm install: no lifecycle scripts run.</summary>
    public bool IgnoreScripts { get; init; } = RepoLockSettings.DefaultIgnoreScripts;

    /// <summary>npm cache folder, or null for npm's default.</summary>
    public string? CacheDir { get; init; }
}
