using System.Globalization;
using RepoLock.Core.Diagnostics;
using RepoLock.Core.Locking;
using RepoLock.Core.Npm;

namespace RepoLock.Core;

/// <summary>
/// Everything a front end can set, with the one copy of every default and every rule. The MSBuild props only forward
/// properties; <see cref="FromProperties"/> turns them into settings, and <see cref="Validate"/> checks settings made in code.
/// </summary>
public sealed record RepoLockSettings
{
    /// <summary>Default of <see cref="LockTimeout"/>: 900 s, longer than the stale age, so a live holder is waited for.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(900);

    /// <summary>Default of <see cref="StaleAge"/>: 300 s, the stale age OpenFn workers use with proper-lockfile.</summary>
    public static readonly TimeSpan DefaultStaleAge = TimeSpan.FromSeconds(300);

    /// <summary>Default of <see cref="InstallTimeout"/>: 600 s.</summary>
    public static readonly TimeSpan DefaultInstallTimeout = TimeSpan.FromSeconds(600);

    /// <summary>Default of <see cref="MaxParallel"/>: 4.</summary>
    public const int DefaultMaxParallel = 4;

    /// <summary>The least stale age accepted: below it a holder's heartbeat (every half stale age) cannot keep its lock.</summary>
    public static readonly TimeSpan MinimumStaleAge = TimeSpan.FromSeconds(2);

    /// <summary>How long a waiter waits for a lock that a live holder keeps fresh (<c>RepoLockLockTimeout</c>).</summary>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary>A lock not refreshed for this long, by the file server's clock, may be broken (<c>RepoLockStaleAge</c>).</summary>
    public TimeSpan StaleAge { get; init; } = DefaultStaleAge;

    /// <summary>How long one <c>npm install</c> may run before it is stopped (<c>RepoLockInstallTimeout</c>).</summary>
    public TimeSpan InstallTimeout { get; init; } = DefaultInstallTimeout;

    /// <summary>How many adaptors one build installs at once (<c>RepoLockMaxParallel</c>).</summary>
    public int MaxParallel { get; init; } = DefaultMaxParallel;

    /// <summary>The npm executable, or null for npm on PATH (<c>RepoLockNpmPath</c>).</summary>
    public string? NpmPath { get; init; }

    /// <summary>The npm registry URL, or null for npm's own configuration (<c>RepoLockRegistry</c>).</summary>
    public string? Registry { get; init; }

    /// <summary>Install from npm's cache only (<c>RepoLockOffline</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>
    /// Create the repo folder when it does not exist (<c>RepoLockCreateRepoDir</c>). Off by default: a missing folder someone named is
    /// usually a share that is not mounted, and filling a local folder instead would give every agent its own cache. The MSBuild targets
    /// turn it on for the default repo in the output folder.
    /// </summary>
    public bool CreateRepoDir { get; init; }

    /// <summary>Default of <see cref="IgnoreScripts"/>: true, as the OpenFn runtime installs adaptors (<c>npm install --ignore-scripts</c>).</summary>
    public const bool DefaultIgnoreScripts = true;

    /// <summary>Run npm with <c>--ignore-scripts</c>, so no package's lifecycle scripts run on the agent (<c>RepoLockIgnoreScripts</c>).</summary>
    public bool IgnoreScripts { get; init; } = DefaultIgnoreScripts;

    /// <summary>Default of <see cref="VerifyOnBundle"/>: true.</summary>
    public const bool DefaultVerifyOnBundle = true;

    /// <summary>Check each adaptor's files against the digest in its sentinel before bundling it (<c>RepoLockVerifyOnBundle</c>).</summary>
    public bool VerifyOnBundle { get; init; } = DefaultVerifyOnBundle;

    /// <summary>
    /// The bundle archive's entry time, whole seconds since 1970 (<c>SOURCE_DATE_EPOCH</c>, as an MSBuild property or an environment
    /// variable: the targets pass <c>$(SOURCE_DATE_EPOCH)</c>, which MSBuild fills from either); null or empty for the default.
    /// </summary>
    public string? SourceDateEpoch { get; init; }

    /// <summary>
    /// Check what the bundle ships without an install digest (a Node worker's adaptors, hoisted dependencies) against the packages' published
    /// tarballs, fetched through npm (<c>RepoLockVerifyAgainstRegistry</c>; with <see cref="Offline"/>, npm's cache only). Default false.
    /// </summary>
    public bool VerifyAgainstRegistry { get; init; }

    /// <summary>npm's cache folder, or null for npm's default.</summary>
    public string? NpmCacheDir { get; init; }

    /// <summary>The clock and timers; tests pass a fake one.</summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How often a waiter looks at a lock again.</summary>
    internal TimeSpan PollInterval { get; init; } = LockSettings.DefaultPollInterval;

    /// <summary>How often a waiter says who holds the lock.</summary>
    internal TimeSpan ReportInterval { get; init; } = LockSettings.DefaultReportInterval;

    /// <summary>A holder's refresh interval, or null for half the stale age, at most 10 s.</summary>
    internal TimeSpan? Heartbeat { get; init; }

    /// <summary>Break a lock at once when its holder is provably dead on this machine.</summary>
    internal bool FastRecovery { get; init; } = true;

    /// <summary>Test seam: called at named points of an install ("after-npm", "after-move", "after-manifest").</summary>
    internal Action<string, AdaptorSpecifier>? Checkpoint { get; init; }

    /// <summary>The MSBuild property names <see cref="FromProperties"/> reads; the README's property table documents each.</summary>
    public static IReadOnlyList<string> PropertyNames { get; } =
    [
        "RepoLockLockTimeout", "RepoLockStaleAge", "RepoLockInstallTimeout", "RepoLockMaxParallel",
        "RepoLockNpmPath", "RepoLockRegistry", "RepoLockOffline", "RepoLockCreateRepoDir", "RepoLockIgnoreScripts", "RepoLockVerifyOnBundle",
    ];

    /// <summary>
    /// Settings from property values as a user writes them (MSBuild properties, command-line options). A missing or empty value
    /// keeps the default. Throws <see cref="RepoLockException"/> RL1006 naming the first invalid property.
    /// </summary>
    public static RepoLockSettings FromProperties(IReadOnlyDictionary<string, string?> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        foreach (var key in properties.Keys)
        {
            if (!PropertyNames.Contains(key, StringComparer.Ordinal))
            {
                throw new ArgumentException($"Unknown RepoLock property '{key}'.", nameof(properties));
            }
        }

        string? Value(string name) => properties.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        TimeSpan Seconds(string name, TimeSpan fallback) =>
            Value(name) is not { } text ? fallback
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? TimeSpan.FromSeconds(s)
            : throw Errors.Setting(name, text, "a whole number of seconds");

        bool Flag(string name, bool fallback) =>
            Value(name) is not { } text ? fallback
            : bool.TryParse(text, out var b) ? b
            : throw Errors.Setting(name, text, "true or false");

        var settings = new RepoLockSettings
        {
            LockTimeout = Seconds("RepoLockLockTimeout", DefaultLockTimeout),
            StaleAge = Seconds("RepoLockStaleAge", DefaultStaleAge),
            InstallTimeout = Seconds("RepoLockInstallTimeout", DefaultInstallTimeout),
            MaxParallel = Value("RepoLockMaxParallel") is { } p
                ? int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Errors.Setting("RepoLockMaxParallel", p, "a whole number of at least 1")
                : DefaultMaxParallel,
            NpmPath = Value("RepoLockNpmPath"),
            Registry = Value("RepoLockRegistry"),
            Offline = Flag("RepoLockOffline", false),
            CreateRepoDir = Flag("RepoLockCreateRepoDir", false),
            IgnoreScripts = Flag("RepoLockIgnoreScripts", DefaultIgnoreScripts),
            VerifyOnBundle = Flag("RepoLockVerifyOnBundle", DefaultVerifyOnBundle),
        };
        settings.Validate();
        return settings;
    }

    /// <summary>Checks every rule; throws <see cref="RepoLockException"/> RL1006 naming the first setting that breaks one.</summary>
    public void Validate()
    {
        static string Text(TimeSpan t) => t.TotalSeconds.ToString(CultureInfo.InvariantCulture);

        if (LockTimeout < TimeSpan.Zero)
        {
            throw Errors.Setting("RepoLockLockTimeout", Text(LockTimeout), "a whole number of seconds, at least 0");
        }

        if (StaleAge < MinimumStaleAge)
        {
            throw Errors.Setting("RepoLockStaleAge", Text(StaleAge), $"a whole number of seconds, at least {Text(MinimumStaleAge)}");
        }

        if (InstallTimeout < TimeSpan.FromSeconds(1))
        {
            throw Errors.Setting("RepoLockInstallTimeout", Text(InstallTimeout), "a whole number of seconds, at least 1");
        }

        if (MaxParallel < 1)
        {
            throw Errors.Setting("RepoLockMaxParallel", MaxParallel.ToString(CultureInfo.InvariantCulture), "a whole number of at least 1");
        }

        if (Registry is { } r && !(Uri.TryCreate(r, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw Errors.Setting("RepoLockRegistry", r, "an http or https URL");
        }
    }

    internal LockSettings Lock => new()
    {
        StaleAge = StaleAge,
        Timeout = LockTimeout,
        Heartbeat = Heartbeat,
        PollInterval = PollInterval,
        ReportInterval = ReportInterval,
        FastRecovery = FastRecovery,
    };

    internal NpmSettings Npm => new()
    {
        NpmPath = NpmPath ?? NpmSettings.DefaultNpmPath,
        Registry = Registry,
        Offline = Offline,
        InstallTimeout = InstallTimeout,
        CacheDir = NpmCacheDir,
        IgnoreScripts = IgnoreScripts,
    };
}
