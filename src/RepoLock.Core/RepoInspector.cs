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
/// waiters use, debris judged by the rules installers use, every byte by category, what nothing needs, and what is unsound. Every decision
/// comes from fresh listings through the repo's door, never from by-name lookups a client cache may answer. It changes nothing but a clock
/// probe file; <see cref="RepoMaintenance"/> makes the changes.
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
        : this(LayoutOf(repo), settings ?? new RepoLockSettings(), MachineIdentity.Current)
    {
    }

    internal RepoInspector(RepoLayout layout, RepoLockSettings settings, MachineIdentity self)
    {
        settings.Validate();
        if (!Directory.Exists(layout.Root))
        {
            throw Errors.RepoToOperate(layout.Root, "it does not exist");
        }

        _layout = layout;
        _settings = settings;
        _locks = new LockService(settings.Lock, self, settings.Time);
    }

    /// <summary>The repo folder, as a full path.</summary>
    public string Root => _layout.Root;

    internal RepoLayout Layout => _layout;

    internal LockService LockService => _locks;

    /// <summary>Adaptors (by any trace: sentinel, folder, manifest entry or held lock), held locks, debris, space and leftovers, as they are now.</summary>
    /// <exception cref="RepoLockException">RL7005 when the folder is not an OpenFn repo; RL4001 when its manifest is not an OpenFn manifest.</exception>
    public RepoStatus Inspect()
    {
        var manifest = OpenFnManifest();
        var locks = Locks();
        var lockOf = locks.GroupBy(l => l.Alias, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var sentinels = RepoScan.SentinelAliases(_layout).ToHashSet(StringComparer.Ordinal);
        var folders = RepoScan.FolderAliases(_layout).ToHashSet(StringComparer.Ordinal);
        var listed = RepoScan.ManifestAliases(manifest).ToHashSet(StringComparer.Ordinal);
        var debris = DebrisScan.Find(_layout, _locks);
        var (space, perAdaptor) = RepoAccounting.Of(_layout, debris);
        var adaptors = sentinels.Union(folders).Union(listed).Union(lockOf.Keys.Where(a => RepoScan.TryParseAlias(a) is not null)).Order(StringComparer.Ordinal)
            .Select(alias => Describe(alias, sentinels.Contains(alias), folders.Contains(alias), listed.Contains(alias), lockOf.GetValueOrDefault(alias),
                folders.Contains(alias) ? perAdaptor.GetValueOrDefault(alias) : 0))
            .ToList();
        var (leftovers, notJudged) = RepoLeftovers.Find(_layout, folders, locks, _settings.StaleAge);
        return new RepoStatus(_layout.Root, adaptors, locks, debris)
        {
            Space = space,
            Leftovers = leftovers,
            PackagesNotJudged = notJudged,
        };
    }

    /// <summary>The lock on one alias (or <c>package.json</c> for the manifest's), judged now; null when it is not held.</summary>
    public LockInfo? FindLock(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var target = alias == "package.json" ? _layout.ManifestLockTarget : _layout.LockTarget(alias);
        return LockJudge.Judge(_locks, alias, target + ".lock");
    }

    /// <summary>
    /// Checks every adaptor: its package.json names it, its dependency closure resolves, its files match their digest, the manifest lists
    /// it; and finds sentinels without folders, half-installs, stock installs (unverified), manifest entries without adaptors, dead locks
    /// (and judges the adaptors behind them), debris, and leftovers nothing needs. An alias whose lock a holder not judged dead has is being
    /// installed or removed and is not judged. An adaptor whose files cannot be judged (malformed content) is a problem, never a crash.
    /// </summary>
    /// <param name="progress">Told the alias being checked, one call per adaptor.</param>
    public IReadOnlyList<RepoProblem> Verify(IProgress<string>? progress = null)
    {
        var status = Inspect();
        var problems = new List<RepoProblem>();
        foreach (var l in status.Locks.Where(l => l.Verdict == LockVerdict.Dead))
        {
            problems.Add(new RepoProblem(RepoProblemKind.DeadLock, l.Alias, l.LockDir,
                $"a dead lock (held by {l.Holder}: {l.Why}); it blocks {(l.Alias == "package.json" ? "every manifest change" : l.Alias)} until a waiter breaks it"));
        }

        foreach (var l in status.Locks.Where(l => l.Verdict == LockVerdict.Unknown && l.Age is null))
        {
            problems.Add(new RepoProblem(RepoProblemKind.Unjudgeable, l.Alias, l.LockDir,
                $"{ErrorCodes.RepoReadOnly}: this lock cannot be judged ({l.Why}), so {(l.Alias == "package.json" ? "the manifest" : "the adaptor")} behind it was not checked; run as a user that can write .locks"));
        }

        foreach (var a in status.Adaptors.Where(a => a.LockVerdict is null or LockVerdict.Dead))
        {
            progress?.Report(a.Alias);
            problems.AddRange(Judge(a));
        }

        problems.AddRange(status.Debris.Select(d => new RepoProblem(RepoProblemKind.Debris, null, d.Path, d.What)));
        problems.AddRange(status.Leftovers.Select(l => new RepoProblem(RepoProblemKind.Leftover, null, l.Path, l.Why)));
        return problems;
    }

    /// <summary>
    /// The installed adaptors a prune would remove: every one with a sentinel not kept (<see cref="KeptBy"/>), and with
    /// <paramref name="olderThan"/> only those whose sentinel the file server wrote longer ago, by the file server's clock (without that
    /// clock, none is old enough).
    /// </summary>
    public IReadOnlyList<AdaptorInfo> PlanPrune(IReadOnlyCollection<AdaptorSpecifier> keep, TimeSpan? olderThan, RepoStatus? status = null)
    {
        ArgumentNullException.ThrowIfNull(keep);
        DateTime? now = olderThan is null ? null : ServerClock.Probe(_layout.Root);
        bool OldEnough(AdaptorInfo a) => olderThan is not { } age || (now is { } n && a.SentinelWritten is { } written && n - written.UtcDateTime > age);
        return (status ?? Inspect()).Adaptors.Where(a => a.HasSentinel && !keep.Any(k => Keeps(k, a)) && OldEnough(a)).ToList();
    }

    /// <summary>The aliases in <paramref name="status"/> (folder or sentinel present) that the keep entry <paramref name="keep"/> keeps.</summary>
    public static IReadOnlyList<string> KeptBy(AdaptorSpecifier keep, RepoStatus status)
    {
        ArgumentNullException.ThrowIfNull(keep);
        ArgumentNullException.ThrowIfNull(status);
        return status.Adaptors.Where(a => (a.HasFolder || a.HasSentinel) && Keeps(keep, a)).Select(a => a.Alias).ToList();
    }

    /// <summary>The rule: an exact specifier keeps its version; a dist-tag or a bare name keeps every version of the name.</summary>
    private static bool Keeps(AdaptorSpecifier keep, AdaptorInfo a) => keep.Name == a.Name && (!keep.IsExact || keep.VersionText == a.Version);

    private List<LockInfo> Locks() =>
        RepoScan.LockDirs(_layout).Select(l => LockJudge.Judge(_locks, l.Alias, l.LockDir)).OfType<LockInfo>().ToList();

    private static RepoLayout LayoutOf(string repo)
    {
        if (string.IsNullOrWhiteSpace(repo))
        {
            throw Errors.RepoToOperate(repo ?? string.Empty, "no folder was given");
        }

        if (File.Exists(repo))
        {
            throw Errors.RepoToOperate(repo, "it is a file, not a folder");
        }

        try
        {
            return new RepoLayout(repo);
        }
        catch (RepoLockException e) when (e.Code == ErrorCodes.InvalidRepo)
        {
            throw Errors.RepoToOperate(repo, "it is not a usable path");
        }
    }

    /// <summary>
    /// The repo manifest from a fresh read; RL7005 when the folder is not an OpenFn repo: a manifest not named <c>openfn-repo</c>, or no
    /// manifest and none of RepoLock's folders (a repo whose first install is under way has <c>.locks</c> before its manifest).
    /// </summary>
    private JsonObject? OpenFnManifest()
    {
        JsonObject? manifest;
        try
        {
            manifest = RepoManifest.Read(_layout, fresh: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Errors.NoPermission(_layout.ManifestPath, "read", e);
        }

        if (manifest is null)
        {
            var names = _layout.Door.List(_layout.Root).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            return names.Overlaps([".sentinels", ".locks", ".staging"])
                ? null
                : throw Errors.NotARepo(_layout.Root, "it has no package.json and none of RepoLock's folders (.sentinels, .locks)");
        }

        var name = manifest["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return name == "openfn-repo" ? manifest : throw Errors.NotARepo(_layout.Root, $"its package.json is named '{name ?? "(no name)"}', not openfn-repo");
    }

    /// <summary>
    /// What nothing would need once the adaptors in <paramref name="plan"/> are gone (a prune's dry run): the leftovers of
    /// <paramref name="status"/>, with packages judged again as if those adaptor folders were not there.
    /// </summary>
    public IReadOnlyList<RepoLeftover> LeftoversAfter(IReadOnlyCollection<AdaptorInfo> plan, RepoStatus status)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(status);
        var going = plan.Select(a => a.Alias).ToHashSet(StringComparer.Ordinal);
        return RepoLeftovers.Find(_layout, RepoScan.FolderAliases(_layout).Where(a => !going.Contains(a)).ToList(), status.Locks, _settings.StaleAge).Found
            .Where(l => l.Kind != RepoLeftoverKind.Listing || !going.Any(a => l.Path == _layout.DigestListingPath(a)))
            .ToList();
    }

    /// <summary>What nothing needs now, judged from fresh listings (<see cref="RepoLeftovers"/>).</summary>
    internal IReadOnlyList<RepoLeftover> Leftovers() =>
        RepoLeftovers.Find(_layout, RepoScan.FolderAliases(_layout).ToList(), Locks(), _settings.StaleAge).Found;

    /// <summary>One alias's problems from fresh listings, for a fix that holds its lock (so it is judged although locked: by us).</summary>
    internal List<RepoProblem> Recheck(string alias)
    {
        var listed = RepoScan.ManifestAliases(RepoManifest.Read(_layout, fresh: true)).Contains(alias, StringComparer.Ordinal);
        var hasSentinel = _layout.Door.Look(_layout.SentinelPath(alias)) is not null;
        var hasFolder = _layout.Door.Look(_layout.AdaptorDir(alias)) is { Kind: FsKind.Directory };
        var a = Describe(alias, hasSentinel, hasFolder, listed, lockHeld: null);
        return a.HasSentinel || a.HasFolder || a.Listed ? Judge(a) : [];
    }

    private AdaptorInfo Describe(string alias, bool hasSentinel, bool folderListed, bool listed, LockInfo? lockHeld, long? bytes = null)
    {
        var spec = RepoScan.TryParseAlias(alias)!;
        var sentinelPath = _layout.SentinelPath(alias);
        FsStat? sentinelStat = null;
        var hasFolder = false;
        try
        {
            sentinelStat = hasSentinel ? _layout.Door.Look(sentinelPath) : null;
            hasFolder = folderListed && _layout.Door.Look(_layout.AdaptorManifest(alias)) is { Kind: FsKind.File };
        }
        catch (RepoLockException)
        {
            // A link or a file where a folder belongs: never followed; the adaptor counts as not installed.
        }

        var sentinel = sentinelStat is not null ? Sentinel.TryRead(_layout.Door, sentinelPath) : null;
        return new AdaptorInfo(alias, spec.Name, spec.VersionText, bytes ?? RepoScan.Size(_layout, _layout.AdaptorDir(alias)),
            sentinel?.InstalledAt, sentinel?.Host, sentinel?.ProcessId, hasSentinel, hasFolder, listed, hasSentinel ? sentinel?.Digest : null, lockHeld is not null)
        {
            Adopted = sentinel?.Adopted ?? false,
            SentinelWritten = sentinelStat is { } st ? new DateTimeOffset(st.Mtime) : null,
            LockVerdict = lockHeld?.Verdict,
        };
    }

    /// <summary>The problems of one adaptor; content that cannot be judged (a malformed package.json, an unreadable file) is one problem naming it.</summary>
    private List<RepoProblem> Judge(AdaptorInfo a)
    {
        try
        {
            return Check(a).ToList();
        }
        catch (UnauthorizedAccessException e)
        {
            return [new RepoProblem(RepoProblemKind.Unjudgeable, a.Alias, _layout.AdaptorDir(a.Alias), $"{ErrorCodes.RepoReadOnly}: permission denied: {e.Message}")];
        }
        catch (Exception e) when (e is RepoLockException or IOException or JsonException or InvalidOperationException or FormatException
                                      or OverflowException or ArgumentException)
        {
            return [new RepoProblem(RepoProblemKind.Unjudgeable, a.Alias, _layout.AdaptorDir(a.Alias), $"cannot be judged: {e.Message}")];
        }
    }

    private IEnumerable<RepoProblem> Check(AdaptorInfo a)
    {
        var folder = _layout.AdaptorDir(a.Alias);
        if (a.HasSentinel && !a.HasFolder)
        {
            yield return new RepoProblem(RepoProblemKind.SentinelWithoutFolder, a.Alias, _layout.SentinelPath(a.Alias), $"sentinel present, but no {folder}/package.json");
            yield break;
        }

        if (a.StockInstall)
        {
            yield return new RepoProblem(RepoProblemKind.StockInstall, a.Alias, folder,
                "installed by an OpenFn worker, unverified (manifest entry and folder, no sentinel); --fix adopts it as a build does, never removes it");
            yield break;
        }

        if (a.HasFolder && !a.HasSentinel)
        {
            yield return new RepoProblem(RepoProblemKind.FolderWithoutSentinel, a.Alias, folder, "adaptor folder without a sentinel or a manifest entry, and not locked: a half-install");
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
            yield return missing;
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

    /// <summary>The closure by the bundle's rule (Node's resolution up to the repo root), or why it does not resolve or cannot be judged.</summary>
    private RepoProblem? ClosureProblem(string folder, AdaptorInfo a)
    {
        try
        {
            DependencyClosure.Resolve(_layout.Root, folder, $"{a.Name}@{a.Version}");
            return null;
        }
        catch (RepoLockException e) when (e.Code is ErrorCodes.BundleDependencyMissing or ErrorCodes.BundleVersionConflict)
        {
            return new RepoProblem(RepoProblemKind.MissingDependency, a.Alias, folder, $"{e.Code}: {e.Message}");
        }
        catch (RepoLockException e) when (e.Code is ErrorCodes.BadAdaptorManifest)
        {
            return new RepoProblem(RepoProblemKind.Unjudgeable, a.Alias, folder, $"cannot be judged: {e.Message}");
        }
    }

    /// <summary>The files against the digest the install recorded (none recorded: nothing to compare), naming the first difference.</summary>
    private string? DigestProblem(string folder, AdaptorInfo a)
    {
        if (a.Digest is not { } recorded)
        {
            return null;
        }

        var expected = _layout.Door.ReadFile(_layout.DigestListingPath(a.Alias), RepoDoor.SmallFileLimit) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;
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

    private string? PackageMismatch(string folder, AdaptorInfo a)
    {
        var path = Path.Combine(folder, "package.json");
        JsonNode? json;
        try
        {
            json = _layout.Door.ReadFile(path, RepoDoor.SmallFileLimit) is { } bytes ? JsonNode.Parse(bytes) : null;
        }
        catch (JsonException e)
        {
            return $"package.json is not valid JSON: {e.Message}";
        }

        string? Text(string key) => json?[key] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            null => null,
            var other => $"({other.GetValueKind().ToString().ToLowerInvariant()} {other.ToJsonString()}, not a string)",
        };

        var (name, version) = (Text("name"), Text("version"));
        return name == a.Name && version == a.Version ? null : $"package.json names '{name}@{version}', not {a.Name}@{a.Version}";
    }
}
