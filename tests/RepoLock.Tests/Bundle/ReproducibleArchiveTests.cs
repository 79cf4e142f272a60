using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using RepoLock.Core;
using RepoLock.Core.Bundle;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Bundle;

/// <summary>The same repo content gives the same archive bytes, so image layers built from it cache.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReproducibleArchiveTests : IDisposable
{
    private readonly TempDir _dir = new("archive");

    public void Dispose() => _dir.Dispose();

    private FakeRepo Repo()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0", deps: """{"a":"^1.0.0"}""").Package("a", "1.0.0");
        var bin = Path.Combine(repo.Layout.AdaptorDir("x_1.0.0"), "cli.js");
        File.WriteAllText(bin, "#!/usr/bin/env node\n");
        File.SetUnixFileMode(bin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(repo.Layout.AdaptorDir("x_1.0.0"), "node_modules", ".bin"));
        File.CreateSymbolicLink(Path.Combine(repo.Layout.AdaptorDir("x_1.0.0"), "node_modules", ".bin", "x"), "../../cli.js");
        return repo;
    }

    private byte[] Publish(FakeRepo repo, string name, DateTimeOffset? timestamp = null)
    {
        var dest = _dir.Combine(name, "openfn-repo");
        RepoBundle.Create(repo.Layout, [AdaptorSpecifier.Parse("x@1.0.0")], dest, dest + ".tar.gz", new BundleOptions(true, timestamp ?? ReproducibleArchive.DefaultTimestamp));
        return File.ReadAllBytes(dest + ".tar.gz");
    }

    private static List<TarEntry> Entries(byte[] archive)
    {
        using var tar = new TarReader(new GZipStream(new MemoryStream(archive), CompressionMode.Decompress));
        var entries = new List<TarEntry>();
        while (tar.GetNextEntry(copyData: false) is { } entry)
        {
            entries.Add(entry);
        }

        return entries;
    }

    [Fact]
    public void Two_publishes_of_one_repo_with_touched_files_and_new_folder_times_give_identical_bytes()
    {
        var repo = Repo();
        var first = Publish(repo, "one");
        foreach (var file in Directory.EnumerateFiles(repo.Layout.Root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));
        }

        var second = Publish(repo, "two");

        Assert.Equal(Convert.ToHexString(SHA256.HashData(first)), Convert.ToHexString(SHA256.HashData(second)));
    }

    [Fact]
    public void Entries_are_sorted_owned_by_root_with_one_timestamp_normalised_modes_and_the_exec_bit_kept_and_gzip_has_no_time()
    {
        var archive = Publish(Repo(), "one");
        var entries = Entries(archive);

        Assert.Equal(entries.Select(e => e.Name.TrimEnd('/')).Order(StringComparer.Ordinal), entries.Select(e => e.Name.TrimEnd('/')));
        Assert.All(entries, e => Assert.Equal((0, 0, "", "", ReproducibleArchive.DefaultTimestamp), (e.Uid, e.Gid, ((PosixTarEntry)e).UserName, ((PosixTarEntry)e).GroupName, e.ModificationTime)));
        Assert.Equal((UnixFileMode)0b111_101_101, entries.Single(e => e.Name.EndsWith("x_1.0.0/cli.js", StringComparison.Ordinal)).Mode);
        Assert.Equal((UnixFileMode)0b110_100_100, entries.Single(e => e.Name.EndsWith("x_1.0.0/index.js", StringComparison.Ordinal)).Mode);
        var link = entries.Single(e => e.Name.EndsWith(".bin/x", StringComparison.Ordinal));
        Assert.Equal((TarEntryType.SymbolicLink, "../../cli.js"), (link.EntryType, link.LinkName));
        Assert.Contains(entries, e => e.Name == ".sentinels/x_1.0.0.done");
        Assert.Contains(entries, e => e.Name == "node_modules/a/package.json");
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, archive[4..8]); // gzip MTIME
        Assert.Equal(3, archive[9]); // gzip OS: Unix, on every platform
    }

    [Fact]
    public void SOURCE_DATE_EPOCH_sets_every_entrys_time_and_a_bad_value_is_RL6007()
    {
        var timestamp = ReproducibleArchive.Timestamp("1700000000");

        var entries = Entries(Publish(Repo(), "one", timestamp));

        Assert.All(entries, e => Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), e.ModificationTime));
        Assert.Equal(ReproducibleArchive.DefaultTimestamp, ReproducibleArchive.Timestamp(null));
        Assert.Equal(ErrorCodes.BadSourceDateEpoch, Assert.Throws<RepoLockException>(() => ReproducibleArchive.Timestamp("yesterday")).Code);
    }
}
