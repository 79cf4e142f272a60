namespace RepoLock.Core;

/// <summary>One adaptor alias found in a repo, by any of its three traces: sentinel, folder, manifest entry.</summary>
/// <param name="Alias"><c>&lt;name&gt;_&lt;version&gt;</c>.</param>
/// <param name="Name">The npm package name.</param>
/// <param name="Version">The exact version.</param>
/// <param name="Bytes">Size of <c>node_modules/&lt;alias&gt;</c> (0 without a folder).</param>
/// <param name="InstalledAt">When its sentinel says it was installed, or null without a readable sentinel.</param>
/// <param name="Host">The host that installed it, from the sentinel.</param>
/// <param name="ProcessId">The process that installed it, from the sentinel.</param>
/// <param name="HasSentinel">Its sentinel exists.</param>
/// <param name="HasFolder"><c>node_modules/&lt;alias&gt;/package.json</c> exists.</param>
/// <param name="Listed">The repo manifest lists it.</param>
/// <param name="Digest">The content digest its sentinel records, or null when it records none.</param>
/// <param name="Locked">Its alias lock is held now (being installed or removed).</param>
public sealed record AdaptorInfo(
    string Alias, string Name, string Version, long Bytes, DateTimeOffset? InstalledAt, string? Host, int? ProcessId,
    bool HasSentinel, bool HasFolder, bool Listed, string? Digest, bool Locked)
{
    /// <summary>The runtime rule: sentinel and package.json both present.</summary>
    public bool Installed => HasSentinel && HasFolder;

    /// <summary>
    /// Installed by an OpenFn worker (the released engine's root <c>npm install</c>): manifest entry and folder, no sentinel. Unverified,
    /// never removed by <c>verify --fix</c>; it may be adopted as a build adopts it.
    /// </summary>
    public bool StockInstall => HasFolder && !HasSentinel && Listed;

    /// <summary>Its sentinel says RepoLock adopted a stock install (no content digest: unverified).</summary>
    public bool Adopted { get; init; }

    /// <summary>When the file server wrote its sentinel (the sentinel file's mtime, by the server's clock), or null without one.</summary>
    public DateTimeOffset? SentinelWritten { get; init; }

    /// <summary>The verdict on its alias lock when <see cref="Locked"/>, else null.</summary>
    public LockVerdict? LockVerdict { get; init; }
}
