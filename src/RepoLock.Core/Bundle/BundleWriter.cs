using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Diagnostics;
using RepoLock.Core.Install;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Lays installed adaptors out as a self-contained OpenFn repo (docs/bundles.md). The steps:
/// check every adaptor is installed and resolve every closure (nothing is written before both pass); copy the adaptors, their sentinels
/// and their closures into a folder next to the destination, checking each adaptor's digest on the copy; write the manifest; write the
/// archive next to its destination; then rename the folder and the archive into place. A failure leaves the old bundle as it was.
/// </summary>
internal static class BundleWriter
{
    public static void Write(RepoLayout source, IReadOnlyList<AdaptorSpecifier> adaptors, string destination, string? archive, BundleOptions options, IRepoLockLog log)
    {
        var dest = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        BundleDestination.Check(source, dest, archive); // never the repo, inside it, or containing it (RL1007)
        var wanted = adaptors.DistinctBy(a => a.Alias).OrderBy(a => a.Alias, StringComparer.Ordinal).ToList();
        if (wanted.Find(s => !source.IsInstalled(s.Alias)) is { } missing)
        {
            throw Errors.BundleNotInstalled(missing.ToString(), source.Root);
        }

        foreach (var spec in wanted)
        {
            AdaptorLinks.Check(source, spec); // real folders and files where the repo's rules expect them (RL4002); links are judged as they are copied
        }

        var rootReal = NativeFs.RealPath(source.Root);
        var found = new List<string>();
        var neededBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in wanted)
        {
            var own = source.AdaptorDir(spec.Alias);
            var closureOfOne = DependencyClosure.Resolve(source.Root, own, spec.ToString());
            foreach (var folder in closureOfOne.Prepend(own))
            {
                // Checked on the resolved path: a link planted in the shared repo must not make the bundle ship files from elsewhere.
                var real = NativeFs.RealPath(folder);
                if (!real.StartsWith(rootReal + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw Errors.BundleOutsideRepo(spec.ToString(), folder, real);
                }
            }

            found.AddRange(closureOfOne);
            closureOfOne.ToList().ForEach(p => neededBy.TryAdd(p, spec.ToString()));
        }

        var closure = DependencyClosure.Outermost(found);
        string NeededBy(string package) => // the first adaptor that needs it, or a package nested in it
            neededBy.TryGetValue(package, out var by) ? by : neededBy.First(p => p.Key.StartsWith(package + Path.DirectorySeparatorChar, StringComparison.Ordinal)).Value;

        var temp = $"{dest}.tmp-{Guid.NewGuid():N}";
        var archiveTemp = archive is null ? null : $"{Path.GetFullPath(archive)}.tmp-{Guid.NewGuid():N}";
        try
        {
            Directory.CreateDirectory(temp);
            var bundled = new RepoLayout(temp);
            foreach (var spec in wanted)
            {
                var name = spec.ToString();
                BundleCopier.CopyPackage(source.AdaptorDir(spec.Alias), bundled.AdaptorDir(spec.Alias), name, log);
                BundleCopier.CopyFile(source.SentinelPath(spec.Alias), bundled.SentinelPath(spec.Alias), name);
                if (File.Exists(source.DigestListingPath(spec.Alias)))
                {
                    BundleCopier.CopyFile(source.DigestListingPath(spec.Alias), bundled.DigestListingPath(spec.Alias), name);
                }
            }

            foreach (var package in closure)
            {
                // A package nested in another copied one travels with it, under the outer package's link rule.
                BundleCopier.CopyPackage(package, Path.Combine(temp, Path.GetRelativePath(source.Root, package)), NeededBy(package), log);
            }

            // On the copy: exactly what ships. The adaptors without a digest (a Node worker's) can be checked against the registry only.
            var undigested = wanted.Where(spec => !Verify(spec, bundled, options.Verify, checkedElsewhere: options.Registry is not null, log)).ToList();
            if (options.Registry is { } registry)
            {
                // What no digest covers: adaptors without one, and every closure package outside an adaptor's folder.
                var items = undigested.SelectMany(spec => TreeDigest.PackageFolders(bundled.AdaptorDir(spec.Alias)).Select(f => Item(f, spec.ToString())))
                    .Concat(closure.SelectMany(package => TreeDigest.PackageFolders(Path.Combine(temp, Path.GetRelativePath(source.Root, package))).Select(f => Item(f, NeededBy(package)))))
                    .ToList();

                RegistryCheck.Item Item(string folder, string adaptor) => new(folder, Path.GetRelativePath(temp, folder).Replace('\\', '/'), adaptor);
                registry.Verify(items.DistinctBy(i => i.RelativePath).ToList(), Path.Combine(source.NodeModules, ".package-lock.json"), CancellationToken.None);
            }

            var deps = new JsonObject();
            foreach (var spec in wanted)
            {
                deps[spec.Alias] = RepoManifest.EntryValue(spec);
            }

            var manifest = new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = deps };
            File.WriteAllText(bundled.ManifestPath, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

            if (archiveTemp is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(archiveTemp)!);
                ReproducibleArchive.Write(temp, archiveTemp, options.Timestamp);
            }

            BundleDestination.ReplaceWith(temp, dest); // the old bundle goes only once the new one is in place
            if (archiveTemp is not null)
            {
                File.Move(archiveTemp, Path.GetFullPath(archive!), overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Errors.BundleIo(dest, e);
        }
        finally
        {
            TreeDelete.TryDelete(temp);
            if (archiveTemp is not null)
            {
                AtomicFile.TryDelete(archiveTemp);
            }
        }
    }

    /// <summary>
    /// The copy must match the digest recorded at install; an adaptor installed by others has none and ships with a warning, unless it is
    /// checked against the registry.
    /// </summary>
    /// <returns>Whether the adaptor's sentinel records a digest.</returns>
    private static bool Verify(AdaptorSpecifier spec, RepoLayout bundled, bool verify, bool checkedElsewhere, IRepoLockLog log)
    {
        var recorded = Sentinel.TryRead(bundled.Door, bundled.SentinelPath(spec.Alias))?.Digest;
        if (!verify || recorded is null)
        {
            if (verify && !checkedElsewhere)
            {
                log.Warning(ErrorCodes.BundleNotVerified, Errors.NotVerifiedMessage(spec.ToString()));
            }

            return recorded is not null;
        }

        var stored = bundled.Door.ReadFile(bundled.DigestListingPath(spec.Alias), RepoDoor.SmallFileLimit) is { } listing ? System.Text.Encoding.UTF8.GetString(listing) : null;
        if (ContentDigest.Difference(bundled.Root, bundled.AdaptorDir(spec.Alias), recorded, stored) is { } first)
        {
            throw Errors.BundleDigestMismatch(spec.ToString(), first, recorded);
        }

        return true;
    }
}
