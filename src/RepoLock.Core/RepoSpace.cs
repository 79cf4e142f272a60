namespace RepoLock.Core;

/// <summary>Every byte under a repo (regular files; links are never followed), by what it is. The categories add up to <see cref="Total"/>.</summary>
/// <param name="Adaptors">Files in adaptor folders (<c>node_modules/&lt;alias&gt;/</c>).</param>
/// <param name="Packages">Files in <c>node_modules</c> outside adaptor folders: packages a root <c>npm install</c> hoisted.</param>
/// <param name="Listings">Content listings (<c>.sentinels/*.files</c>).</param>
/// <param name="Debris">Leftovers of processes that are gone (<see cref="RepoStatus.Debris"/>).</param>
/// <param name="Other">Everything else: the manifest, sentinels, locks, owner records, a root <c>package-lock.json</c>, live staging folders.</param>
public sealed record RepoSpace(long Adaptors, long Packages, long Listings, long Debris, long Other)
{
    /// <summary>All of it.</summary>
    public long Total => Adaptors + Packages + Listings + Debris + Other;
}
