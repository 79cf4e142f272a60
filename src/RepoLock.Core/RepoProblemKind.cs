namespace RepoLock.Core;

/// <summary>What <see cref="RepoInspector.Verify"/> can find wrong. <see cref="RepoMaintenance.FixAsync"/> repairs each as the README's table says.</summary>
public enum RepoProblemKind
{
    /// <summary>The adaptor's <c>package.json</c> is unreadable or names another package or version. Fix: remove the adaptor so the next build reinstalls it.</summary>
    WrongPackage,

    /// <summary>A dependency of the adaptor (or of one of its dependencies) does not resolve as Node resolves it, from its folder up to the repo root, or resolves to a version outside the range asked for. Fix: remove the adaptor.</summary>
    MissingDependency,

    /// <summary>The adaptor's files differ from the content digest its sentinel recorded at install. Fix: remove the adaptor.</summary>
    DigestMismatch,

    /// <summary>
    /// With <see cref="RepoLockSettings.VerifyAgainstRegistry"/>: a package copy no install digest covers (an adaptor a Node worker installed,
    /// or a package hoisted outside an adaptor's folder) differs from its published tarball. Fix: remove the adaptor.
    /// </summary>
    RegistryMismatch,

    /// <summary>Installed, but the repo manifest does not list it. Fix: list it again.</summary>
    NotInManifest,

    /// <summary>A sentinel whose adaptor folder is missing. Fix: remove the sentinel (and manifest entry).</summary>
    SentinelWithoutFolder,

    /// <summary>An adaptor folder without a sentinel and without a lock (a half-install). Fix: move it aside and delete it.</summary>
    FolderWithoutSentinel,

    /// <summary>A manifest entry for an adaptor that is not installed. Fix: remove the entry.</summary>
    ManifestEntryWithoutAdaptor,

    /// <summary>A leftover of a process that is gone (<see cref="RepoDebris"/>). Fix: delete it.</summary>
    Debris,

    /// <summary>Installed by an OpenFn worker (manifest entry and folder, no sentinel): unverified. Fix: adopt it as a build does (never removed).</summary>
    StockInstall,

    /// <summary>A lock whose holder is judged dead: it blocks its adaptor until a waiter breaks it. Fix: break it through the waiters' path.</summary>
    DeadLock,

    /// <summary>The adaptor cannot be judged: a file it needs is malformed (a <c>version</c> that is not a string, a range no parser takes) or unreadable. Not fixed: the detail names the file.</summary>
    Unjudgeable,

    /// <summary>Something nothing needs (<see cref="RepoLeftover"/>): a hoisted package no closure resolves, an orphaned listing, an owner record without a lock. Fix: reclaim it.</summary>
    Leftover,
}
