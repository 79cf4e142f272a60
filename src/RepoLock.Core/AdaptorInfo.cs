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
}
