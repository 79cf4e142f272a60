namespace RepoLock.Core;

/// <summary>What became of one requested adaptor.</summary>
public enum InstallOutcome
{
    /// <summary>It was installed before this call: the cache hit, no lock taken.</summary>
    AlreadyInstalled,

    /// <summary>This call installed it.</summary>
    Installed,

    /// <summary>A peer (another build, agent or Node worker) installed it while this call waited for its lock.</summary>
    InstalledByPeer,

    /// <summary>
    /// A complete install that another tool made (a stock OpenFn worker's root <c>npm install</c>: manifest entry and folder, no sentinel)
    /// was adopted in place: this call wrote its sentinel ("adopted", no content digest) and moved nothing.
    /// </summary>
    Adopted,
}
