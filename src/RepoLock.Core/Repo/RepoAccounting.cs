namespace RepoLock.Core.Repo;

/// <summary>
/// Every byte under a repo by category (<see cref="RepoSpace"/>), from one walk of its regular files that never follows a link: what
/// <c>du</c> sees, explained. Debris is what <see cref="DebrisScan"/> judged; adaptor folders are <c>node_modules/&lt;alias&gt;</c>.
/// </summary>
internal static class RepoAccounting
{
    /// <returns>The space by category, and the bytes of each adaptor folder by alias (one walk serves both).</returns>
    public static (RepoSpace Space, Dictionary<string, long> PerAdaptor) Of(RepoLayout layout, IReadOnlyList<RepoDebris> debris)
    {
        var perAdaptor = new Dictionary<string, long>(StringComparer.Ordinal);
        long adaptors = 0, packages = 0, listings = 0, debrisBytes = 0, other = 0;
        var sep = Path.DirectorySeparatorChar;
        foreach (var (path, bytes) in RepoScan.Files(layout.Root))
        {
            var relative = path[(layout.Root.Length + 1)..];
            if (debris.Any(d => path == d.Path || path.StartsWith(d.Path + sep, StringComparison.Ordinal)))
            {
                debrisBytes += bytes;
            }
            else if (relative.StartsWith("node_modules" + sep, StringComparison.Ordinal))
            {
                var parts = relative.Split(sep);
                var name = parts.Length > 3 && parts[1].StartsWith('@') ? $"{parts[1]}/{parts[2]}" : parts.Length > 2 ? parts[1] : "";
                if (perAdaptor.TryGetValue(name, out var sum) || RepoScan.TryParseAlias(name) is not null)
                {
                    adaptors += bytes;
                    perAdaptor[name] = sum + bytes;
                }
                else
                {
                    packages += bytes;
                }
            }
            else if (relative.StartsWith(".sentinels" + sep, StringComparison.Ordinal) && relative.EndsWith(".files", StringComparison.Ordinal))
            {
                listings += bytes;
            }
            else
            {
                other += bytes;
            }
        }

        return (new RepoSpace(adaptors, packages, listings, debrisBytes, other), perAdaptor);
    }
}
