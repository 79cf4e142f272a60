namespace RepoLock.Core.Repo;

/// <summary>What fresh listings say of one alias.</summary>
internal enum FreshState
{
    NotInstalled,

    /// <summary>The sentinel, the adaptor folder and its package.json, each the right kind of entry.</summary>
    Installed,

    /// <summary>The adaptor folder and its package.json, no sentinel: a stock OpenFn install, or a RepoLock install stopped before its sentinel.</summary>
    NoSentinel,
}
