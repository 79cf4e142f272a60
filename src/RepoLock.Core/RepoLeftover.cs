namespace RepoLock.Core;

/// <summary>What a <see cref="RepoLeftover"/> is.</summary>
public enum RepoLeftoverKind
{
    /// <summary>A package in <c>node_modules</c> outside every adaptor folder that no adaptor's dependency closure resolves (the bundle's rule).</summary>
    Package,

    /// <summary>A content listing (<c>.sentinels/&lt;alias&gt;.files</c>) without its sentinel.</summary>
    Listing,

    /// <summary>An owner record (<c>.locks/&lt;lock&gt;.owner.json</c>) without its lock, untouched for the stale age by the file server's clock.</summary>
    OwnerRecord,
}

/// <summary>Something in a repo that nothing needs, with its size: <c>prune</c> and <c>verify --fix</c> reclaim it after judging it again.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Path">The folder or file.</param>
/// <param name="Bytes">Its size (links never followed).</param>
/// <param name="Why">Why nothing needs it, in words.</param>
public sealed record RepoLeftover(RepoLeftoverKind Kind, string Path, long Bytes, string Why);
