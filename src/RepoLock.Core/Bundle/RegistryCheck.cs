using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Diagnostics;
using RepoLock.Core.Npm;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Checks package copies that no install digest covers (a Node worker's adaptors, hoisted dependencies) against what the registry
/// published (docs/bundles.md, "Checking against the registry"): one <c>npm pack</c> fetches every tarball through npm's cache and
/// configured registry (<c>RepoLockOffline</c>: the cache only; npm checks each against the registry's integrity as it fetches); the
/// tarball's SHA-512 must equal the <c>integrity</c> npm recorded in the repo's hidden lockfile when it has one; then every file of the
/// copy's own files must equal the tarball's, byte for byte, and no file may be added or missing. A difference is RL6011, naming the
/// adaptor, the package and the first differing file.
/// </summary>
internal sealed class RegistryCheck
{
    private readonly NpmClient _npm;

    public RegistryCheck(NpmClient npm) => _npm = npm;

    /// <summary>One package copy to check: its folder, its path relative to the repo (the lockfile's key) and the adaptor that ships it.</summary>
    internal readonly record struct Item(string Folder, string RelativePath, string Adaptor);

    /// <param name="items">The copies (in the bundle folder: what ships).</param>
    /// <param name="lockfile">The repo's <c>node_modules/.package-lock.json</c>, read for the integrity npm recorded; may not exist.</param>
    /// <param name="cancellationToken">Stops npm.</param>
    /// <exception cref="RepoLockException">RL6011 for the first package that differs from (or cannot be compared with) its tarball.</exception>
    public void Verify(IReadOnlyList<Item> items, string lockfile, CancellationToken cancellationToken)
    {
        var ids = items.Select(i => (Item: i, Id: IdOf(i.Folder))).Where(x => x.Id is not null).ToList();
        if (ids.Count == 0)
        {
            return;
        }

        var integrities = Integrities(lockfile);
        var temp = Directory.CreateTempSubdirectory("repolock-pack-").FullName;
        try
        {
            var specs = ids.Select(x => $"{x.Id!.Value.Name}@{x.Id.Value.Version}").Distinct(StringComparer.Ordinal).ToList();
            if (_npm.PackAsync(specs, temp, cancellationToken).GetAwaiter().GetResult() is { } error)
            {
                var first = ids[0];
                throw Errors.RegistryMismatch(first.Item.Adaptor, first.Item.RelativePath, specs[0], $"npm could not fetch the published tarballs: {error}");
            }

            foreach (var (item, id) in ids.OrderBy(x => x.Item.RelativePath, StringComparer.Ordinal))
            {
                var spec = $"{id!.Value.Name}@{id.Value.Version}";
                var tarball = Path.Combine(temp, $"{id.Value.Name.TrimStart('@').Replace('/', '-')}-{id.Value.Version}.tgz");
                var difference = !File.Exists(tarball) ? "npm did not produce its tarball"
                    : IntegrityDifference(tarball, integrities.GetValueOrDefault(item.RelativePath))
                      ?? FirstDifference(item.Folder, tarball);
                if (difference is not null)
                {
                    throw Errors.RegistryMismatch(item.Adaptor, item.RelativePath, spec, difference);
                }
            }
        }
        finally
        {
            try
            {
                Directory.Delete(temp, recursive: true); // our private folder with npm's tarballs; never follows a link inside it
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // left in the temp folder
            }
        }
    }

    private static string? IntegrityDifference(string tarball, string? recorded)
    {
        if (recorded is null || !recorded.StartsWith("sha512-", StringComparison.Ordinal))
        {
            return null; // none recorded (or an old sha1): npm checked the tarball against the registry's integrity as it fetched it
        }

        using var stream = File.OpenRead(tarball);
        var actual = "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
        return recorded.Split(' ').Contains(actual, StringComparer.Ordinal)
            ? null
            : $"the published tarball's integrity is {actual}, but npm recorded {recorded} when it installed this copy";
    }

    /// <summary>The first file (ordinal order) that differs between the copy's own files and the tarball's, or null.</summary>
    private static string? FirstDifference(string folder, string tarball)
    {
        var published = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
                var path = slash < 0 ? "" : entry.Name[(slash + 1)..].TrimEnd('/');
                if ((entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile) && path.Length > 0 && !path.StartsWith("node_modules/", StringComparison.Ordinal))
                {
                    using var bytes = new MemoryStream();
                    entry.DataStream?.CopyTo(bytes);
                    published[path] = bytes.ToArray();
                }
            }
        }

        var differences = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in TreeWalk.Sorted(folder, ownFilesOnly: true).Where(e => e.Kind != TreeWalk.EntryKind.Directory))
        {
            if (!published.Remove(entry.RelativePath, out var expected))
            {
                differences.Add($"{entry.RelativePath} (not in the published package)");
            }
            else if (entry.Kind == TreeWalk.EntryKind.Link || !SameBytes(entry.Info.FullName, expected))
            {
                differences.Add($"{entry.RelativePath} (differs from the published file)");
            }
        }

        differences.UnionWith(published.Keys.Select(p => $"{p} (missing: the published package has it)"));
        return differences.Count > 0 ? differences.Min : null;
    }

    private static bool SameBytes(string path, byte[] expected)
    {
        using var handle = FileIdentity.OpenRegular(path, out var info);
        if (handle is null || info.Size != expected.Length)
        {
            return false;
        }

        var actual = new byte[expected.Length];
        var read = 0;
        int n;
        while (read < actual.Length && (n = RandomAccess.Read(handle, actual.AsSpan(read), read)) > 0)
        {
            read += n;
        }

        return read == actual.Length && actual.AsSpan().SequenceEqual(expected);
    }

    private static (string Name, string Version)? IdOf(string folder)
    {
        var manifest = Path.Combine(folder, "package.json");
        try
        {
            var json = FileIdentity.Lstat(manifest).Kind == FileIdentity.Kind.Regular && Repo.RepoDoor.ReadSmallFile(manifest) is { } bytes ? JsonNode.Parse(bytes) : null;
            return json?["name"] is JsonValue n && n.TryGetValue<string>(out var name) && json["version"] is JsonValue v && v.TryGetValue<string>(out var version)
                ? (name, version)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return null;
        }
    }

    /// <summary>The integrity npm recorded for each installed path (<c>node_modules/...</c>) in the repo's hidden lockfile.</summary>
    private static Dictionary<string, string> Integrities(string lockfile)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (FileIdentity.Lstat(lockfile).Kind == FileIdentity.Kind.Regular && JsonNode.Parse(File.ReadAllText(lockfile))?["packages"] is JsonObject packages)
            {
                foreach (var (path, node) in packages)
                {
                    if (node?["integrity"] is JsonValue v && v.TryGetValue<string>(out var integrity))
                    {
                        result[path] = integrity;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // unreadable: npm's own check as it fetches is what remains
        }

        return result;
    }
}
