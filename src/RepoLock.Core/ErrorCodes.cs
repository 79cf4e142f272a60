namespace RepoLock.Core;

/// <summary>
/// Every RepoLock diagnostic code. Codes are stable: scripts and tests match on them, never on the text.
/// RL1xxx input, RL2xxx locking, RL3xxx installing, RL4xxx repo contents, RL5xxx host, RL6xxx bundling, RL7xxx the repolock tool. The README's table says what to do for each.
/// </summary>
public static class ErrorCodes
{
    /// <summary>An <c>Adaptor</c> item is not a valid npm package name.</summary>
    public const string InvalidName = "RL1001";

    /// <summary>Not an exact SemVer 2.0 version (or a range, or build metadata).</summary>
    public const string InvalidVersion = "RL1002";

    /// <summary>The repo folder is missing or not a folder.</summary>
    public const string InvalidRepo = "RL1003";

    /// <summary>A dist-tag could not be resolved through the registry.</summary>
    public const string TagNotResolved = "RL1004";

    /// <summary>The version in the item and its <c>Version</c> metadata differ.</summary>
    public const string ConflictingVersion = "RL1005";

    /// <summary>A <c>RepoLock*</c> setting has an invalid value.</summary>
    public const string InvalidSetting = "RL1006";

    /// <summary>The bundle destination is the repo, inside it, or contains it.</summary>
    public const string BundleDestinationOverlapsRepo = "RL1007";

    /// <summary>An <c>OpenFnProject</c> file is missing or cannot be read.</summary>
    public const string ProjectFileMissing = "RL1008";

    /// <summary>An <c>OpenFnProject</c> file is neither an OpenFn project (<c>project.yaml</c>) nor a CLI workflow, or not valid YAML/JSON.</summary>
    public const string NotAProjectFile = "RL1009";

    /// <summary>An OpenFn project names an adaptor by a local path (<c>name=/path</c>), which cannot go into a shared repo.</summary>
    public const string PathAdaptor = "RL1010";

    /// <summary>An OpenFn project names an adaptor that an explicit <c>Adaptor</c> item names at another version.</summary>
    public const string ProjectConflictsWithItem = "RL1011";

    /// <summary>Timed out waiting for a lock that a live holder keeps fresh.</summary>
    public const string LockTimeout = "RL2001";

    /// <summary>The lock was lost while installing; the install stopped before changing the repo.</summary>
    public const string LockLost = "RL2002";

    /// <summary><c>npm install</c> failed.</summary>
    public const string NpmFailed = "RL3001";

    /// <summary><c>npm install</c> ran past its timeout and was stopped.</summary>
    public const string InstallTimeout = "RL3002";

    /// <summary>npm could not be started.</summary>
    public const string NpmNotFound = "RL3003";

    /// <summary>npm produced a package other than the one asked for.</summary>
    public const string UnexpectedPackage = "RL3004";

    /// <summary>A file-system error (disk full, permissions).</summary>
    public const string IoFailure = "RL3005";

    /// <summary>Cancelled; npm was stopped.</summary>
    public const string Cancelled = "RL3006";

    /// <summary>The repo is read-only, so a missing adaptor cannot be installed.</summary>
    public const string RepoReadOnly = "RL3007";

    /// <summary>The repo's <c>package.json</c> is not an OpenFn repo manifest.</summary>
    public const string ManifestCorrupt = "RL4001";

    /// <summary>One of RepoLock's own folders (or the repo manifest, or a lock file) is a link or not the kind of entry it must be; nothing was changed.</summary>
    public const string LinkInRepo = "RL4002";

    /// <summary>A sentinel, the repo manifest or an adaptor's <c>package.json</c> is a link, a folder, a FIFO, a device or a socket: never
    /// read or followed (a warning where the adaptor then counts as not installed, an error where the file must be read).</summary>
    public const string NotARegularFile = "RL4003";

    /// <summary>A link inside an adaptor leads outside that adaptor's folder, or to nothing; it is not bundled.</summary>
    public const string LinkLeavesAdaptor = "RL4004";

    /// <summary>An adaptor's <c>package.json</c> has a <c>name</c> or <c>version</c> that is not a string.</summary>
    public const string BadAdaptorManifest = "RL4005";

    /// <summary>A file RepoLock must read (the repo manifest, a sentinel, an owner record, a <c>package.json</c>) is larger than RepoLock reads.</summary>
    public const string FileTooLarge = "RL4006";

    /// <summary>Not the MSBuild of the .NET SDK (raised by the targets, where the task cannot load).</summary>
    public const string UnsupportedHost = "RL5001";

    /// <summary>A bundled adaptor's required dependency resolves nowhere in the repo.</summary>
    public const string BundleDependencyMissing = "RL6001";

    /// <summary>A package a bundled adaptor resolves outside its folder does not fit the range that asks for it.</summary>
    public const string BundleVersionConflict = "RL6002";

    /// <summary>A bundled adaptor's files differ from the digest recorded at install.</summary>
    public const string BundleDigestMismatch = "RL6003";

    /// <summary>An adaptor asked for in the bundle is not installed in the repo.</summary>
    public const string BundleNotInstalled = "RL6004";

    /// <summary>A file-system error while writing the bundle.</summary>
    public const string BundleIoFailure = "RL6005";

    /// <summary>Warning: an adaptor's sentinel has no digest (installed by another tool), so it was bundled unverified.</summary>
    public const string BundleNotVerified = "RL6006";

    /// <summary><c>SOURCE_DATE_EPOCH</c> is not a whole number of seconds.</summary>
    public const string BadSourceDateEpoch = "RL6007";

    /// <summary>A folder a bundled adaptor needs leads outside the repo through a link.</summary>
    public const string BundleOutsideRepo = "RL6008";

    /// <summary>Warning: a dangling npm <c>.bin</c> link (its command's file is missing) was left out of the bundle.</summary>
    public const string BundleDroppedBinLink = "RL6009";

    /// <summary>A file a bundle would ship is not a plain file of the repo: a hard link (another name shares it) or a FIFO, socket or device.</summary>
    public const string BundleNotPlainFile = "RL6010";

    /// <summary>A package the bundle checked against the registry (<c>RepoLockVerifyAgainstRegistry</c>) differs from its published tarball, or the tarball could not be fetched.</summary>
    public const string BundleRegistryMismatch = "RL6011";

    /// <summary>The repolock tool was given no repo (<c>--repo</c> or <c>REPOLOCK_REPO</c>).</summary>
    public const string NoRepo = "RL7001";

    /// <summary>An unlock was refused: the lock's holder is not judged dead.</summary>
    public const string UnlockRefused = "RL7002";

    /// <summary>A prune keep list (<c>--keep-file</c>) could not be read, or a line in it is not a specifier.</summary>
    public const string BadKeepList = "RL7003";

    /// <summary>A prune was given nothing to keep (<c>--keep</c> or <c>--keep-file</c>); it would remove every adaptor.</summary>
    public const string NothingKept = "RL7004";

    /// <summary>The repolock tool was pointed at a folder that is not an OpenFn repo (no manifest and no RepoLock folders, or a manifest that is not <c>openfn-repo</c>).</summary>
    public const string NotARepo = "RL7005";

    /// <summary>A prune keep entry (<c>--keep</c>, <c>--keep-file</c>, <c>--keep-from</c>) matches nothing installed (a typo would otherwise remove what was meant to stay).</summary>
    public const string KeepUnmatched = "RL7006";
}
