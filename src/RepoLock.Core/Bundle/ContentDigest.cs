namespace RepoLock.Core.Bundle;

/// <summary>
/// The content digest of an installed adaptor (docs/bundles.md, "Content digest"): computed once at install, recorded in the sentinel, and
/// checked by the bundle and by <c>repolock verify</c>. The format is versioned by the digest's prefix: new installs record version 2
/// (<see cref="TreeDigest"/>, <c>v2-sha256-</c>: every file of the adaptor's folder, every copy of every package, keyed by path); sentinels with a version 1
/// digest (<see cref="LegacyDigest"/>, <c>sha256-</c>) stay verifiable with the rules they were written with.
/// </summary>
internal static class ContentDigest
{
    /// <summary>The listing to store next to the sentinel of the adaptor in <paramref name="adaptorDir"/> (the current version).</summary>
    /// <param name="root">The repo (or staging folder) the adaptor is in; version 2 does not need it.</param>
    /// <param name="adaptorDir">The adaptor's folder.</param>
    public static string Listing(string root, string adaptorDir) => TreeDigest.Listing(adaptorDir);

    /// <summary>The digest a listing stands for: the one it carries (version 2), or the hash of its bytes (version 1).</summary>
    public static string Of(string listing) => TreeDigest.DigestOf(listing) ?? LegacyDigest.Of(listing);

    /// <summary>
    /// Null when the adaptor in <paramref name="adaptorDir"/> still matches <paramref name="recorded"/>; otherwise the first differing
    /// path, named as precisely as <paramref name="stored"/> (the listing written at install, or null) allows.
    /// </summary>
    /// <param name="root">The repo (or bundle) the adaptor is in.</param>
    /// <param name="adaptorDir">The adaptor's folder.</param>
    /// <param name="recorded">The digest in the sentinel.</param>
    /// <param name="stored">The listing stored at install, or null.</param>
    public static string? Difference(string root, string adaptorDir, string recorded, string? stored) =>
        recorded.StartsWith(TreeDigest.Prefix, StringComparison.Ordinal)
            ? TreeDigest.Difference(root, adaptorDir, recorded, stored)
            : LegacyDigest.Difference(root, adaptorDir, recorded, stored);
}
