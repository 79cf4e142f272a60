namespace RepoLock.Core;

/// <summary>
/// The one place that defines every RepoLock diagnostic. Codes are stable: scripts and tests match on them.
/// RL1xxx input, RL2xxx locking, RL3xxx installing, RL4xxx repo contents, RL5xxx host.
/// </summary>
public static class Errors
{
    public const string InvalidName = "RL1001";
    public const string InvalidVersion = "RL1002";
    public const string InvalidRepo = "RL1003";
    public const string TagNotResolved = "RL1004";
    public const string ConflictingVersion = "RL1005";
    public const string InvalidSetting = "RL1006";
    public const string LockTimeout = "RL2001";
    public const string LockLost = "RL2002";
    public const string NpmFailed = "RL3001";
    public const string InstallTimeout = "RL3002";
    public const string NpmNotFound = "RL3003";
    public const string UnexpectedPackage = "RL3004";
    public const string IoFailure = "RL3005";
    public const string Cancelled = "RL3006";
    public const string ManifestCorrupt = "RL4001";
    public const string UnsupportedHost = "RL5001";

    public static RepoLockException BadName(string item, string reason) => new(InvalidName,
        $"Adaptor '{item}': invalid npm package name: {reason}. Use a lowercase npm name such as '@openfn/language-http@7.2.10'. Nothing was written.");

    public static RepoLockException BadVersion(string item, string reason) => new(InvalidVersion,
        $"Adaptor '{item}': {reason}. Give an exact SemVer 2.0 version (for example 7.2.10), or 'latest'/'next' to resolve one from the registry. Nothing was written.");

    public static RepoLockException BadRepo(string repo, string reason) => new(InvalidRepo,
        $"Adaptor repo '{repo}': {reason}. Set AdaptorRepoDir to a writable folder (the shared mount on CI agents). Nothing was written.");

    public static RepoLockException Conflict(string item, string inInclude, string inMetadata) => new(ConflictingVersion,
        $"Adaptor '{item}': the version in the item ({inInclude}) differs from its Version metadata ({inMetadata}). Give the version once. Nothing was written.");

    public static RepoLockException Setting(string name, string value, string expected) => new(InvalidSetting,
        $"RepoLock setting {name}='{value}' is not valid: expected {expected}.");

    public static RepoLockException TagFailed(string name, string tag, string detail) => new(TagNotResolved,
        $"Adaptor '{name}@{tag}': could not resolve '{tag}' to an exact version through the registry: {detail}. Pin an exact version, or check the registry setting (RepoLockRegistry) and network. Nothing was written.");

    public static RepoLockException Timeout(string adaptor, string lockPath, string holder, TimeSpan waited) => new(LockTimeout,
        $"Adaptor '{adaptor}': gave up after waiting {waited.TotalSeconds:0} s for the lock {lockPath}, held by {holder}. " +
        "If that holder is still working, raise RepoLockLockTimeout; if it is gone, the lock becomes free once it is older than RepoLockStaleAge, or remove the lock directory by hand when no build uses the repo.");

    public static RepoLockException Lost(string adaptor, string lockPath, string detail) => new(LockLost,
        $"Adaptor '{adaptor}': the lock {lockPath} was lost while installing ({detail}); stopped before changing the repo. " +
        "Another process judged the lock stale: check that clocks and NFS attribute caching are within the stale age (RepoLockStaleAge), then build again.");

    public static RepoLockException Npm(string adaptor, int exitCode, string npmLines) => new(NpmFailed,
        $"Adaptor '{adaptor}': npm install failed (exit code {exitCode}); the repo was not changed.{Environment.NewLine}{npmLines}");

    public static RepoLockException NpmTimeout(string adaptor, TimeSpan limit) => new(InstallTimeout,
        $"Adaptor '{adaptor}': npm install did not finish within {limit.TotalSeconds:0} s and was stopped; the repo was not changed. Raise RepoLockInstallTimeout or check the registry.");

    public static RepoLockException NoNpm(string npm, string detail) => new(NpmNotFound,
        $"Could not start npm ('{npm}'): {detail}. Install Node.js and npm on the build agent, or set RepoLockNpmPath to the npm executable.");

    public static RepoLockException Unexpected(string adaptor, string detail) => new(UnexpectedPackage,
        $"Adaptor '{adaptor}': npm produced {detail}; the repo was not changed. Check the registry (RepoLockRegistry) serves the real package.");

    public static RepoLockException Io(string adaptor, string path, Exception e) => new(IoFailure,
        $"Adaptor '{adaptor}': file system error at {path}: {e.Message}. Free disk space or fix permissions, then build again; the repo was left consistent.", e);

    public static RepoLockException WasCancelled(string adaptor) => new(Cancelled,
        $"Adaptor '{adaptor}': cancelled; npm was stopped and the repo was not changed.");

    public static RepoLockException BadManifest(string path, string detail) => new(ManifestCorrupt,
        $"The repo manifest {path} is not a valid OpenFn repo manifest ({detail}). RepoLock will not overwrite it: fix or remove it by hand.");
}
