using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Bundle;
using RepoLock.Core.Diagnostics;
using RepoLock.Core.Locking;
using RepoLock.Core.Npm;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core;

/// <summary>
/// Reads a repo for the people who run it (the <c>repolock</c> tool's status, verify and prune plan): adaptors, locks judged by the rules
/// waiters use, debris judged by the rules installers use, and what is unsound. It changes nothing but a clock probe file in <c>.locks</c>;
/// <see cref="RepoMaintenance"/> makes the changes.
/// </summary>
public sealed class RepoInspector
{
    private readonly RepoLayout _layout;
    private readonly RepoLockSettings _settings;
    private readonly LockService _locks;

    /// <summary>A repo to read. Checks the folder and the settings; writes nothing.</summary>
    /// <param name="repo">The OpenFn repo folder.</param>
    /// <param name="settings">The stale age the locks are judged by; null for the defaults.</param>
    /// <exception cref="RepoLockException">RL1003 for a bad or missing folder, RL1006 for a bad setting.</exception>
    public RepoInspector(string repo, RepoLockSettings? settings = null)
        : this(new RepoLayout(repo), settings ?? new RepoLockSettings(), MachineIdentity.Current)
    {
    }

    internal RepoInspector(RepoLayout layout, RepoLockSettings settings, MachineIdentity self)
    {
        settings.Validate();
        if (!Directory.Exists(layout.Root))
        {
            throw Errors.BadRepo(layout.Root, "it does not exist (a repo to inspect or maintain is one a build has filled)");
        }

        _layout = layout;
        _settings = settings;
        _locks = new LockService(settings.Lock, self, settings.Time);
    }

    /// <summary>The repo folder, as a full path.</summary>
    public string Root => _layout.Root;

    /// <summary>Adaptors (by any trace: sentinel, folder, manifest entry or held lock), held locks and debris, as they are now.</summary>
    /// <exception cref="RepoLockException">RL4001 when the repo manifest is not an OpenFn manifest.</exception>
    public RepoStatus Inspect()
    {
        var locks = Locks();
        var locked = locks.Select(l => l.Alias).ToHashSet(StringComparer.Ordinal);
        var sentinels = RepoScan.SentinelAliases(_layout).ToHashSet(StringComparer.Ordinal);
        var folders = RepoScan.FolderAliases(_layout).ToHashSet(StringComparer.Ordinal);
        var listed = RepoScan.ManifestAliases(RepoManifest.Read(_layout.ManifestPath)).ToHashSet(StringComparer.Ordinal);
        var adaptors = sentinels.Union(folders).Union(listed).Union(locked.Where(a => RepoScan.TryParseAlias(a) is not null)).Order(StringComparer.Ordinal)
            .Select(alias => Describe(alias, sentinels.Contains(alias), listed.Contains(alias), locked.Contains(alias)))
            .ToList();
        return new RepoStatus(_layout.Root, adaptors, locks, DebrisScan.Find(_layout, _locks));
    }

    /// <summary>The lock on one alias (or <c>package.json</c> for the manifest's), judged now; null when it is not held.</summary>
    public LockInfo? FindLock(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var target = alias == "package.json" ? _layout.ManifestLockTarget : _layout.LockTarget(alias);
        return LockJudge.Judge(_locks, alias, target + ".lock");
    }

    /// <summary>
    /// Checks every adaptor: its package.json names it, its dependency closure resolves, the manifest lists it; and finds sentinels without
    /// folders, folders without sentinels, manifest entries without adaptors, and debris. An alias whose lock is held is being installed
    /// or removed and is not judged.
    /// </summary>
    /// <param name="progress">Told the alias being checked, one call per adaptor.</param>
    public IReadOnlyList<RepoProblem> Verify(IProgress<string>? progress = null)
    {
        var status = Inspect();
        var problems = new List<RepoProblem>();
        foreach (var a in status.Adaptors.Where(a => !a.Locked))
        {
            progress?.Report(a.Alias);
            problems.AddRange(Check(a));
        }

        problems.AddRange(status.Debris.Select(d => new RepoProblem(RepoProblemKind.Debris, null, d.Path, d.What)));
        return problems;
    }

    /// <summary>
    /// The installed adaptors a prune would remove: every one not kept (a kept specifier with a dist-tag keeps every version of its name),
    /// and with <paramref name="olderThan"/> only those installed longer ago, by the file server's clock.
    /// </summary>
    public IReadOnlyList<AdaptorInfo> PlanPrune(IReadOnlyCollection<AdaptorSpecifier> keep, TimeSpan? olderThan)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var now = ServerClock.Probe(_layout.Root) is { } server ? new DateTimeOffset(server) : _settings.Time.GetUtcNow();
        bool Kept(AdaptorInfo a) => keep.Any(k => k.Name == a.Name && (!k.IsExact || k.VersionText == a.Version));
        bool OldEnough(AdaptorInfo a) => olderThan is not { } age || (a.InstalledAt is { } at && now - at > age);
        return Inspect().Adaptors.Where(a => a.HasSentinel && !Kept(a) && OldEnough(a)).ToList();
    }

    private List<LockInfo> Locks() =>
        RepoScan.LockDirs(_layout).Select(l => LockJudge.Judge(_locks, l.Alias, l.LockDir)).OfType<LockInfo>().ToList();

    /// <summary>One alias's problems from fresh data, for a fix that holds its lock (so it is judged although locked: by us).</summary>
    internal List<RepoProblem> Recheck(string alias)
    {
        var listed = RepoScan.ManifestAliases(RepoManifest.Read(_layout.ManifestPath)).Contains(alias, StringComparer.Ordinal);
        var a = Describe(alias, File.Exists(_layout.SentinelPath(alias)), listed, locked: false);
        return a.HasSentinel || a.HasFolder || a.Listed ? Check(a).ToList() : [];
    }

    private AdaptorInfo Describe(string alias, bool hasSentinel, bool listed, bool locked)
    {
        var spec = RepoScan.TryParseAlias(alias)!;
        var sentinelPath = _layout.SentinelPath(alias);
        var sentinel = hasSentinel ? Sentinel.TryRead(_layout.Door, sentinelPath) : null;
        var hasFolder = File.Exists(_layout.AdaptorManifest(alias));
        return new AdaptorInfo(alias, spec.Name, spec.VersionText, RepoScan.Size(_layout.AdaptorDir(alias)),
            sentinel?.InstalledAt, sentinel?.Host, sentinel?.ProcessId, hasSentinel, hasFolder, listed, hasSentinel ? sentinel?.Digest : null, locked);
    }

    private IEnumerable<RepoProblem> Check(AdaptorInfo a)
    {
        var folder = _layout.AdaptorDir(a.Alias);
        if (a.HasSentinel && !a.HasFolder)
        {
            yield return new RepoProblem(RepoProblemKind.SentinelWithoutFolder, a.Alias, _layout.SentinelPath(a.Alias), $"sentinel present, but no {folder}/package.json");
            yield break;
        }

        if (a.HasFolder && !a.HasSentinel)
        {
            yield return new RepoProblem(RepoProblemKind.FolderWithoutSentinel, a.Alias, folder, "adaptor folder without a sentinel and not locked: a half-install");
            yield break;
        }

        if (!a.Installed)
        {
            yield return new RepoProblem(RepoProblemKind.ManifestEntryWithoutAdaptor, a.Alias, _layout.ManifestPath, "listed in the manifest, but not installed");
            yield break;
        }

        if (PackageMismatch(folder, a) is { } wrong)
        {
            yield return new RepoProblem(RepoProblemKind.WrongPackage, a.Alias, Path.Combine(folder, "package.json"), wrong);
        }
        else if (ClosureProblem(folder, a) is { } missing)
        {
            yield return new RepoProblem(RepoProblemKind.MissingDependency, a.Alias, folder, missing);
        }
        else if (DigestProblem(folder, a) is { } changed)
        {
            yield return new RepoProblem(RepoProblemKind.DigestMismatch, a.Alias, folder, changed);
        }
        else if (_settings.VerifyAgainstRegistry && RegistryProblem(folder, a) is { } differs)
        {
            yield return new RepoProblem(RepoProblemKind.RegistryMismatch, a.Alias, folder, differs);
        }

        if (!a.Listed)
        {
            yield return new RepoProblem(RepoProblemKind.NotInManifest, a.Alias, _layout.ManifestPath, "installed, but the manifest does not list it");
        }
    }

    /// <summary>The closure by the bundle's rule (Node's resolution up to the repo root), or why it does not resolve.</summary>
    private string? ClosureProblem(string folder, AdaptorInfo a)
    {
        try
        {
            DependencyClosure.Resolve(_layout.Root, folder, $"{a.Name}@{a.Version}");
            return null;
        }
        catch (RepoLockException e) when (e.Code is ErrorCodes.BundleDependencyMissing or ErrorCodes.BundleVersionConflict)
        {
            return $"{e.Code}: {e.Message}";
        }
    }

    /// <summary>The files against the digest the install recorded (none recorded: nothing to compare), naming the first difference.</summary>
    private string? DigestProblem(string folder, AdaptorInfo a)
    {
        if (a.Digest is not { } recorded)
        {
            return null;
        }

        var stored = _layout.DigestListingPath(a.Alias);
        var expected = File.Exists(stored) ? File.ReadAllText(stored) : null;
        return ContentDigest.Difference(_layout.Root, folder, recorded, expected) is { } first
            ? $"files differ from the digest recorded at install ({recorded}); first difference: {first}"
            : null;
    }

    /// <summary>What no digest covers (the adaptor's own packages when it has none, its closure outside its folder) against the registry's tarballs.</summary>
    private string? RegistryProblem(string folder, AdaptorInfo a)
    {
        var name = $"{a.Name}@{a.Version}";
        var folders = (a.Digest is null ? TreeDigest.PackageFolders(folder) : [])
            .Concat(DependencyClosure.Resolve(_layout.Root, folder, name).SelectMany(TreeDigest.PackageFolders));
        var items = folders.Select(f => new RegistryCheck.Item(f, Path.GetRelativePath(_layout.Root, f).Replace('\\', '/'), name))
            .DistinctBy(i => i.RelativePath).ToList();
        try
        {
            new RegistryCheck(new NpmClient(_settings.Npm)).Verify(items, Path.Combine(_layout.NodeModules, ".package-lock.json"), CancellationToken.None);
            return null;
        }
        catch (RepoLockException e) when (e.Code == ErrorCodes.BundleRegistryMismatch)
        {
            return $"{e.Code}: {e.Message}";
        }
    }

    private static string? PackageMismatch(string folder, AdaptorInfo a)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "package.json")));
            var name = json?["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
            var version = json?["version"] is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
            return name == a.Name && version == a.Version ? null : $"package.json names '{name}@{version}', not {a.Name}@{a.Version}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return $"package.json is unreadable: {e.Message}";
        }
    }
}
