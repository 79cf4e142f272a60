using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Bundle;
using RepoLock.Core.Diagnostics;
using RepoLock.Core.Install;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core;

/// <summary>
/// Lays installed adaptors out as a self-contained OpenFn repo (for a container image): a folder with package.json, the adaptors'
/// node_modules folders and their sentinels, and the same as a .tar.gz. Only complete adaptors (with sentinels) are taken; locks and
/// staging are left behind. Both outputs are written to temporary names first and renamed into place.
/// </summary>
public static class RepoBundle
{
    /// <summary>Writes the bundle folder (and the archive, if asked) for <paramref name="adaptors"/>, all installed in <paramref name="repo"/>.</summary>
    /// <param name="repo">The filled OpenFn repo.</param>
    /// <param name="adaptors">Exact adaptors, each installed (sentinel and package.json present).</param>
    /// <param name="destination">The bundle folder; replaced as a whole.</param>
    /// <param name="archive">The .tar.gz to write, or null for none.</param>
    /// <exception cref="RepoLockException">An adaptor is not installed; nothing was written.</exception>
    public static void Create(string repo, IReadOnlyList<AdaptorSpecifier> adaptors, string destination, string? archive) =>
        Create(new RepoLayout(repo), adaptors, destination, archive);

    internal static void Create(RepoLayout source, IReadOnlyList<AdaptorSpecifier> adaptors, string destination, string? archive)
    {
        var dest = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        BundleDestination.Check(source, dest, archive);
        var temp = dest + $".tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            var deps = new JsonObject();
            foreach (var spec in adaptors.OrderBy(a => a.Alias, StringComparer.Ordinal))
            {
                if (!source.IsInstalled(spec.Alias))
                {
                    throw Errors.Unexpected(spec.ToString(), $"no complete install in {source.Root} to bundle");
                }

                AdaptorLinks.Check(source, spec);

                CopyTree(source.AdaptorDir(spec.Alias), Path.Combine(temp, "node_modules", spec.Alias));
                var sentinel = Path.Combine(temp, ".sentinels", spec.Alias + ".done");
                Directory.CreateDirectory(Path.GetDirectoryName(sentinel)!);
                File.Copy(source.SentinelPath(spec.Alias), sentinel);
                deps[spec.Alias] = RepoManifest.EntryValue(spec);
            }

            var manifest = new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = deps };
            File.WriteAllText(Path.Combine(temp, "package.json"), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

            BundleDestination.ReplaceWith(temp, dest);
        }
        catch
        {
            StagingFolder.TryDelete(temp);
            throw;
        }

        if (archive is not null)
        {
            var archiveTemp = archive + $".tmp-{Guid.NewGuid():N}";
            try
            {
                using (var file = File.Create(archiveTemp))
                using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
                {
                    WriteTar(dest, gzip);
                }

                File.Move(archiveTemp, archive, overwrite: true);
            }
            catch
            {
                AtomicFile.TryDelete(archiveTemp);
                throw;
            }
        }
    }

    /// <summary>
    /// Every entry under <paramref name="root"/>, dot-files included (.sentinels, npm's .bin links and hidden lockfile).
    /// TarFile.CreateFromDirectory would skip them: .NET counts names starting with '.' as hidden.
    /// </summary>
    private static void WriteTar(string root, Stream output)
    {
        var everything = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        var entries = new System.IO.Enumeration.FileSystemEnumerable<string>(root, (ref System.IO.Enumeration.FileSystemEntry e) => e.ToFullPath(), everything)
        {
            // .NET's recursive enumeration descends into directory links; an archive never follows one (it is written as a link).
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var path in entries.Order(StringComparer.Ordinal))
        {
            tar.WriteEntry(path, Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/'));
        }
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link); // npm's .bin links stay links
            }
            else if (entry is DirectoryInfo dir)
            {
                CopyTree(dir.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }
}
