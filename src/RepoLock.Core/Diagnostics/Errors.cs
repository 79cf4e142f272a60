namespace RepoLock.Core.Diagnostics;

/// <summary>
/// The one place that writes the message of every diagnostic the code raises (the codes are in <see cref="ErrorCodes"/>).
/// The targets write two messages themselves: RL5001, raised where this assembly cannot load, and RL1006 for a boolean property
/// (checked before the task runs, in the same words as <see cref="Setting"/>).
/// </summary>
internal static class Errors
{
    public static RepoLockException BadName(string item, string reason) => new(ErrorCodes.InvalidName,
        $"Adaptor '{item}': invalid npm package name: {reason}. Use a lowercase npm name such as '@openfn/language-http@7.2.10'. Nothing was written.");

    public static RepoLockException BadVersion(string item, string reason) => new(ErrorCodes.InvalidVersion,
        $"Adaptor '{item}': {reason}. Give an exact SemVer 2.0 version (for example 7.2.10), or 'latest'/'next' to resolve one from the registry. Nothing was written.");

    public static RepoLockException BadRepo(string repo, string reason) => new(ErrorCodes.InvalidRepo,
        $"Adaptor repo '{repo}': {reason}. Set AdaptorRepoDir to a writable folder (the shared mount on CI agents). Nothing was written.");

    public static RepoLockException Conflict(string item, string inInclude, string inMetadata) => new(ErrorCodes.ConflictingVersion,
        $"Adaptor '{item}': the version in the item ({inInclude}) differs from its Version metadata ({inMetadata}). Give the version once. Nothing was written.");

    public static RepoLockException Setting(string name, string value, string expected) => new(ErrorCodes.InvalidSetting,
        $"RepoLock setting {name}='{value}' is not valid: expected {expected}.");

    public static RepoLockException TagFailed(string name, string tag, string detail) => new(ErrorCodes.TagNotResolved,
        $"Adaptor '{name}@{tag}': could not resolve '{tag}' to an exact version through the registry: {detail}. Pin an exact version, or check the registry setting (RepoLockRegistry) and network. Nothing was written.");

    public static RepoLockException Timeout(string adaptor, string lockPath, string holder, TimeSpan waited) => new(ErrorCodes.LockTimeout,
        $"Adaptor '{adaptor}': gave up after waiting {waited.TotalSeconds:0} s for the lock {lockPath}, held by {holder}. " +
        "If that holder is still working, raise RepoLockLockTimeout; if it is gone, the lock becomes free once it is older than RepoLockStaleAge, or remove the lock directory by hand when no build uses the repo.");

    public static RepoLockException Lost(string adaptor, string lockPath, string detail) => new(ErrorCodes.LockLost,
        $"Adaptor '{adaptor}': the lock {lockPath} was lost while installing ({detail}); stopped before changing the repo. " +
        "Another process removed or took over the lock (a forced unlock, or a waiter that judged it stale): if nobody forced it, check that clocks and NFS attribute caching are within the stale age (RepoLockStaleAge); then build again.");

    public static RepoLockException Npm(string adaptor, int exitCode, string npmLines) => new(ErrorCodes.NpmFailed,
        $"Adaptor '{adaptor}': npm install failed (exit code {exitCode}); the repo was not changed.{Environment.NewLine}{npmLines}");

    public static RepoLockException NpmTimeout(string adaptor, TimeSpan limit) => new(ErrorCodes.InstallTimeout,
        $"Adaptor '{adaptor}': npm install did not finish within {limit.TotalSeconds:0} s and was stopped; the repo was not changed. Raise RepoLockInstallTimeout or check the registry.");

    public static RepoLockException NoNpm(string npm, string detail) => new(ErrorCodes.NpmNotFound,
        $"Could not start npm ('{npm}'): {detail}. Install Node.js and npm on the build agent, or set RepoLockNpmPath to the npm executable.");

    public static RepoLockException Unexpected(string adaptor, string detail) => new(ErrorCodes.UnexpectedPackage,
        $"Adaptor '{adaptor}': npm produced {detail}; the repo was not changed. Check the registry (RepoLockRegistry) serves the real package.");

    public static RepoLockException Io(string adaptor, string path, Exception e) => new(ErrorCodes.IoFailure,
        $"Adaptor '{adaptor}': file system error at {path}: {e.Message}. Free disk space or fix permissions, then build again; the repo was left consistent.", e);

    public static RepoLockException WasCancelled(string adaptor, string left = "npm was stopped and the repo was not changed") => new(ErrorCodes.Cancelled,
        $"Adaptor '{adaptor}': cancelled; {left}.");

    public static RepoLockException BadManifest(string path, string detail) => new(ErrorCodes.ManifestCorrupt,
        $"The repo manifest {path} is not a valid OpenFn repo manifest ({detail}). RepoLock will not overwrite it: fix or remove it by hand.");

    public static RepoLockException MissingRepo(string repo) => new(ErrorCodes.InvalidRepo,
        $"Adaptor repo '{repo}' does not exist. Is the share mounted? RepoLock does not create a repo folder you named (that would fill a local disk " +
        "instead of the shared cache); mount the share, point AdaptorRepoDir at an existing folder, or set RepoLockCreateRepoDir=true to create it. Nothing was written.");

    /// <summary>RL1003 for the people who run a repo with the <c>repolock</c> tool: its options, not the build's properties.</summary>
    public static RepoLockException RepoToOperate(string repo, string reason) => new(ErrorCodes.InvalidRepo,
        $"Adaptor repo '{repo}': {reason}. Is the share mounted? Pass --repo <dir> (or set REPOLOCK_REPO) to the repo folder builds fill. Nothing was read or written.");

    public static RepoLockException NotARepo(string repo, string reason) => new(ErrorCodes.NotARepo,
        $"'{repo}' is not an OpenFn adaptor repo: {reason}. Is the share mounted there, and is this the repo folder builds fill (the one with package.json " +
        "named openfn-repo, node_modules and .sentinels)? Nothing was read or written.");

    public static RepoLockException BundleOverlapsRepo(string destination, string repo, string how) => new(ErrorCodes.BundleDestinationOverlapsRepo,
        $"The bundle destination {destination} {how} the adaptor repo {repo}; writing it would replace or copy the repo into itself. " +
        "Set RepoLockBundleDir and RepoLockBundleArchive (or the publish folder) to a place outside the repo. Nothing was written.");

    public static RepoLockException LinkInRepo(string path, string what) => new(ErrorCodes.LinkInRepo,
        $"{path} {what}. RepoLock's folders, the repo manifest and lock files must be real entries inside the repo, so that nothing outside it is " +
        "read, written or deleted through a link. Remove it by hand (check who put it there) and build again. Nothing was changed.");

    public static RepoLockException NotRegularFile(string path, string what) => new(ErrorCodes.NotARegularFile,
        $"{path} {what}, not a regular file. RepoLock reads only regular files inside the repo (a FIFO would hang the build, a device or " +
        "a link could read anything). Remove it by hand (check who put it there) and build again. Nothing was changed.");

    public static RepoLockException TooLarge(string path, long size, long limit) => new(ErrorCodes.FileTooLarge,
        $"{path} is {size:N0} bytes, more than the {limit:N0} RepoLock reads from such a file; it is not what an OpenFn repo holds there. " +
        "Check who wrote it, remove or repair it, and build again. Nothing was changed.");

    public static string NotRegular(string path, string what) =>
        $"RepoLock: {path} {what}, not a regular file; it is never followed, and the adaptor counts as not installed.";

    public static RepoLockException LinkLeaves(string adaptor, string link, string target) => new(ErrorCodes.LinkLeavesAdaptor,
        $"Adaptor '{adaptor}': the link {link} leads to {target}, outside the adaptor's folder; RepoLock will not ship it. " +
        "Remove the link (or reinstall the adaptor: delete its folder and sentinel) and publish again. Nothing was written.");

    public static RepoLockException LinkDangles(string adaptor, string link, string target) => new(ErrorCodes.LinkLeavesAdaptor,
        $"Adaptor '{adaptor}': the link {link} leads to {target}, which does not exist; RepoLock will not ship it (an image built by " +
        "'dotnet publish -t:PublishContainer' would fail on it). Remove the link (or reinstall the adaptor: delete its folder and sentinel) " +
        "and publish again. Nothing was written.");

    public static RepoLockException ReadOnly(string adaptor, string path, Exception e) => new(ErrorCodes.RepoReadOnly,
        $"Adaptor '{adaptor}': the repo {path} is read-only here, or not writable by this user ({e.Message}), so the missing adaptor cannot be installed. " +
        "Mount the repo read-write on this agent, or install the adaptor from an agent that can write it. Nothing was written.", e);

    public static RepoLockException NoPermission(string path, string action, Exception e) => new(ErrorCodes.RepoReadOnly,
        $"Could not {action} {path}: this user may not change it, or the repo is mounted read-only ({e.Message}). Nothing was changed; " +
        "run as a user that can write the repo's folders.", e);

    public static RepoLockException BadAdaptorManifest(string adaptor, string path, string detail) => new(ErrorCodes.BadAdaptorManifest,
        $"Adaptor '{adaptor}': {path} {detail}. The registry served a malformed package; the repo was not changed.");

    public static RepoLockException UnlockRefused(string alias, string lockDir, string holder, string why) => new(ErrorCodes.UnlockRefused,
        $"Lock {lockDir} ({alias}) is held by {holder}, and its holder is not judged dead ({why}). Not removed; nothing was changed. " +
        "Wait for the holder, stop it, or use --force if you know it is gone (a live holder would then install alongside the next one).");

    public static RepoLockException BundleDependencyMissing(string adaptor, string dependency, string range, string requiredBy, string repo) => new(ErrorCodes.BundleDependencyMissing,
        $"Adaptor '{adaptor}': its dependency '{dependency}'{(range.Length > 0 ? $" ({range})" : "")}, required by {requiredBy}, resolves nowhere in {repo} " +
        "(looked in node_modules from that package's folder up to the repo root, as Node does). The adaptor would not run from the bundle. " +
        "Reinstall it (remove its sentinel and build again) or repair the shared repo. Nothing was written.");

    public static RepoLockException BundleVersionConflict(string adaptor, string dependent, string dependency, string range, string found, string place) => new(ErrorCodes.BundleVersionConflict,
        $"Adaptor '{adaptor}': {dependent} needs '{dependency}' {range}, but the repo holds {dependency}@{found} at {place}, where Node would find it. " +
        "A root npm install has replaced a package this adaptor shares; reinstall the adaptor with RepoLock (its dependencies then live in its own folder). Nothing was written.");

    public static RepoLockException BundleDigestMismatch(string adaptor, string firstFile, string recorded) => new(ErrorCodes.BundleDigestMismatch,
        $"Adaptor '{adaptor}': its files differ from what was installed (digest {recorded} in its sentinel); first difference: {firstFile}. " +
        "The shared repo was changed after install (a disk fault, a hand, another tool). Reinstall the adaptor (remove its folder and sentinel, then build again), " +
        "or set RepoLockVerifyOnBundle=false to ship it anyway. Nothing was written.");

    public static RepoLockException BundleNotInstalled(string adaptor, string repo) => new(ErrorCodes.BundleNotInstalled,
        $"Adaptor '{adaptor}': not installed in {repo} (no sentinel or no node_modules/<alias>/package.json), so it cannot be bundled. Build first. Nothing was written.");

    public static RepoLockException BundleIo(string destination, Exception e) => new(ErrorCodes.BundleIoFailure,
        $"The bundle could not be written to {destination}: {e.Message}. Free disk space or fix permissions, then publish again; an earlier bundle there was left as it was.", e);

    public static string NotVerifiedMessage(string adaptor) =>
        $"Adaptor '{adaptor}': bundled without verifying its files: its sentinel has no content digest (it was installed by another tool or an older RepoLock).";

    public static RepoLockException BadSourceDateEpoch(string value) => new(ErrorCodes.BadSourceDateEpoch,
        $"SOURCE_DATE_EPOCH='{value}' is not a whole number of seconds since 1970-01-01 UTC. Fix or unset it. Nothing was written.");

    public static RepoLockException BundleOutsideRepo(string adaptor, string folder, string resolved) => new(ErrorCodes.BundleOutsideRepo,
        $"Adaptor '{adaptor}': {folder}, which it needs, leads outside the repo (to {resolved}) through a link. RepoLock does not ship files from outside the repo: " +
        "replace the link with the package itself, or reinstall the adaptor with RepoLock. Nothing was written.");

    public static RepoLockException ProjectFileMissing(string file, string detail) => new(ErrorCodes.ProjectFileMissing,
        $"OpenFnProject '{file}' cannot be read: {detail}. Fix the item's path (relative to the project that defines it). Nothing was written.");

    public static RepoLockException NotAProjectFile(string file, string detail) => new(ErrorCodes.NotAProjectFile,
        $"OpenFnProject '{file}': {detail}. RepoLock reads an OpenFn project (project.yaml: workflows with jobs or steps that name an 'adaptor') " +
        "or a CLI workflow (workflow.json: steps with 'adaptor' or 'adaptors'). Nothing was written.");

    public static RepoLockException PathAdaptor(string file, string adaptor) => new(ErrorCodes.PathAdaptor,
        $"OpenFnProject '{file}': the adaptor '{adaptor}' is a local path (the CLI's monorepo form), which cannot go into a shared repo. " +
        "Name a published version (for example '@openfn/language-common@2.1.0'), or run that job with the OpenFn CLI's --monorepo instead. Nothing was written.");

    public static RepoLockException ProjectConflictsWithItem(string file, string inProject, string item, string itemFile) => new(ErrorCodes.ProjectConflictsWithItem,
        $"OpenFnProject '{file}' names '{inProject}', but the Adaptor item '{item}' in {itemFile} names another version of it. " +
        "Give the version in one place: remove the Adaptor item, or make it match the project. Nothing was written.");

    public static string DroppedBinLinkMessage(string adaptor, string link, string target) =>
        $"Adaptor '{adaptor}': left the npm command link {link} out of the bundle: it leads to {target}, which does not exist " +
        "(the package does not ship the command's file). The runtime never runs it; reinstall the adaptor to recreate it.";

    public static RepoLockException BundleNotPlainFile(string adaptor, string file, string what) => new(ErrorCodes.BundleNotPlainFile,
        $"Adaptor '{adaptor}': {file} {what}; RepoLock ships only plain files of the repo (npm never creates hard links, FIFOs or devices, " +
        "and a hard link can be another name of a private file outside the repo). Replace it with a copy of its content or reinstall " +
        "the adaptor (delete its folder and sentinel), then publish again. Nothing was written.");

    public static RepoLockException RegistryMismatch(string adaptor, string place, string package, string difference) => new(ErrorCodes.BundleRegistryMismatch,
        $"Adaptor '{adaptor}': {package} at {place}, which no install digest covers, does not match what the registry published: {difference}. " +
        "Reinstall the adaptor with RepoLock (it records a digest), repair the shared repo, or set RepoLockVerifyAgainstRegistry=false to ship it unchecked. Nothing was written.");
}
