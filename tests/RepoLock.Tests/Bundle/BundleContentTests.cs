using System.Formats.Tar;
using System.IO.Compression;
using RepoLock.Core;
using RepoLock.Core.Bundle;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Bundle;

/// <summary>
/// A bundle ships only plain files of the repo and links that stay inside their package, in adaptors and closure packages alike; the
/// install digest sees every copy of every package. Real hard links, real links, real npm installs.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BundleContentTests : IClassFixture<BundleFixture>, IDisposable
{
    private const string Secret = "private key material";
    private const string Twice = "@fixture/language-twice";
    private static readonly AdaptorSpecifier X = AdaptorSpecifier.Parse("x@1.0.0");

    private readonly BundleFixture _fx;
    private readonly TempDir _dir = new("content");

    public BundleContentTests(BundleFixture fx)
    {
        _fx = fx;

        // Imports dep-two itself and through dep-one: one copy at the top, and (planted below) a second one under dep-one.
        _fx.Registry.AddPackage(Twice, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0", ["@fixture/dep-two"] = "^1.0.0" });
    }

    public void Dispose() => _dir.Dispose();

    private string Dest => _dir.Combine("publish", "openfn-repo");

    private string SecretFile()
    {
        var path = _dir.Combine("outside", "id_rsa");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Secret);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static void HardLink(string existing, string link)
    {
        using var ln = ChildProcess.Start("ln", [existing, link], Path.GetDirectoryName(link)!);
        Assert.True(ln.WaitForExitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult() == 0, ln.Output);
    }

    private void AssertNothingWritten()
    {
        Assert.False(Directory.Exists(Dest));
        Assert.False(File.Exists(Dest + ".tar.gz"));
    }

    [Fact]
    public void A_hard_link_to_a_private_file_outside_the_repo_is_refused_with_RL6010_naming_it()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var link = Path.Combine(repo.Layout.AdaptorDir(X.Alias), "config.json");
        HardLink(SecretFile(), link);

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest, Dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleNotPlainFile, e.Code);
        Assert.Contains(link, e.Message, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Fact]
    public void A_hard_link_in_a_hoisted_closure_package_is_refused_too()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0", deps: """{"p":"^1.0.0"}""").Package("p", "1.0.0");
        var link = Path.Combine(repo.Layout.NodeModules, "p", "key.pem");
        HardLink(SecretFile(), link);

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest, Dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleNotPlainFile, e.Code);
        Assert.Contains(link, e.Message, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Fact]
    public void An_absolute_link_inside_the_adaptor_is_rewritten_relative_and_one_leaving_it_is_RL4004()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var adaptor = repo.Layout.AdaptorDir(X.Alias);
        Directory.CreateDirectory(Path.Combine(adaptor, "lib"));
        File.CreateSymbolicLink(Path.Combine(adaptor, "lib", "main.js"), Path.Combine(adaptor, "index.js"));

        RepoBundle.Create(repo.Layout, [X], Dest, Dest + ".tar.gz");

        Assert.Equal("../index.js", new FileInfo(Path.Combine(Dest, "node_modules", X.Alias, "lib", "main.js")).LinkTarget);
        Assert.Equal("../index.js", ArchiveEntries(Dest + ".tar.gz")[$"node_modules/{X.Alias}/lib/main.js"].LinkName);

        var outside = Path.Combine(adaptor, "secret.json");
        File.CreateSymbolicLink(outside, SecretFile());
        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest + "2", null));
        Assert.Equal(ErrorCodes.LinkLeavesAdaptor, e.Code);
        Assert.Contains(outside, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_absolute_link_to_another_package_of_the_repo_is_refused()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0").Package("other", "1.0.0");
        var link = Path.Combine(repo.Layout.AdaptorDir(X.Alias), "other.js");
        File.CreateSymbolicLink(link, Path.Combine(repo.Layout.NodeModules, "other", "index.js"));

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest, Dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.LinkLeavesAdaptor, e.Code);
        AssertNothingWritten();
    }

    [Fact]
    public void A_link_in_a_hoisted_closure_package_that_leaves_it_is_RL4004_and_one_inside_it_stays()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0", deps: """{"p":"^1.0.0"}""").Package("p", "1.0.0");
        var package = Path.Combine(repo.Layout.NodeModules, "p");
        File.CreateSymbolicLink(Path.Combine(package, "main.js"), "index.js");
        RepoBundle.Create(repo.Layout, [X], Dest, null);
        Assert.Equal("index.js", new FileInfo(Path.Combine(Dest, "node_modules", "p", "main.js")).LinkTarget);

        var link = Path.Combine(package, "config.json");
        File.CreateSymbolicLink(link, Path.GetRelativePath(package, SecretFile()));
        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest + "2", Dest + "2.tar.gz"));

        Assert.Equal(ErrorCodes.LinkLeavesAdaptor, e.Code);
        Assert.Contains(link, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Dest + "2"));
    }

    [Fact]
    public void A_dangling_npm_bin_link_is_left_out_with_warning_RL6009_and_folder_and_archive_hold_the_same_entries()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var bin = Path.Combine(repo.Layout.AdaptorDir(X.Alias), "node_modules", ".bin");
        Directory.CreateDirectory(bin);
        File.CreateSymbolicLink(Path.Combine(bin, "gone"), "../gone/cli.js");
        File.CreateSymbolicLink(Path.Combine(bin, "run"), "../../index.js");
        var log = new CollectingLog();

        RepoBundle.Create(repo.Layout, [X], Dest, Dest + ".tar.gz", log: log);

        var copied = Path.Combine(Dest, "node_modules", X.Alias, "node_modules", ".bin");
        Assert.Equal(["run"], Directory.GetFileSystemEntries(copied).Select(Path.GetFileName));
        Assert.Contains(log.Lines, l => l.StartsWith($"warning {ErrorCodes.BundleDroppedBinLink}", StringComparison.Ordinal) && l.Contains(Path.Combine(bin, "gone"), StringComparison.Ordinal));
        var folder = TreeWalk.Sorted(Dest).Select(e => e.RelativePath);
        Assert.Equal(folder, ArchiveEntries(Dest + ".tar.gz").Keys);
    }

    [Fact]
    public void A_FIFO_in_an_adaptor_is_refused_without_blocking()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var fifo = Path.Combine(repo.Layout.AdaptorDir(X.Alias), "pipe");
        using (var mkfifo = ChildProcess.Start("mkfifo", [fifo], _dir.Path))
        {
            Assert.True(mkfifo.WaitForExitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult() == 0, mkfifo.Output);
        }

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest, null));

        Assert.Equal(ErrorCodes.BundleNotPlainFile, e.Code);
        Assert.Contains(fifo, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_planted_second_copy_of_an_installed_package_fails_the_bundle_and_verify_naming_where()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var twice = AdaptorSpecifier.Parse(Twice + "@1.0.0");
        Assert.True((await new AdaptorRepo(layout, _fx.Settings).EnsureInstalledAsync([twice], default)).Succeeded);
        var modules = Path.Combine(layout.AdaptorDir(twice.Alias), "node_modules", "@fixture");
        var planted = Path.Combine(modules, "dep-one", "node_modules", "@fixture", "dep-two");
        Directory.CreateDirectory(planted);
        foreach (var file in Directory.GetFiles(Path.Combine(modules, "dep-two")))
        {
            File.Copy(file, Path.Combine(planted, Path.GetFileName(file))); // same name@version: what Node now loads for dep-one
        }

        File.AppendAllText(Path.Combine(planted, "index.js"), "exports.name = 'planted';\n");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(layout, [twice], Dest, Dest + ".tar.gz"));
        var problems = new RepoInspector(layout.Root).Verify();

        Assert.Equal(ErrorCodes.BundleDigestMismatch, e.Code);
        Assert.Contains("node_modules/@fixture/dep-one/node_modules/@fixture/dep-two (@fixture/dep-two@1.0.0: added)", e.Message, StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Kind == RepoProblemKind.DigestMismatch && p.Detail.Contains("node_modules/@fixture/dep-one/node_modules/@fixture/dep-two (", StringComparison.Ordinal));
        AssertNothingWritten();
    }

    [Fact]
    public async Task A_changed_byte_in_one_package_copy_names_that_copy()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var twice = AdaptorSpecifier.Parse(Twice + "@1.0.0");
        Assert.True((await new AdaptorRepo(layout, _fx.Settings).EnsureInstalledAsync([twice], default)).Succeeded);
        var listing = File.ReadAllText(layout.DigestListingPath(twice.Alias));
        File.AppendAllText(Path.Combine(layout.AdaptorDir(twice.Alias), "node_modules", "@fixture", "dep-two", "index.js"), "// changed\n");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(layout, [twice], Dest, null));

        Assert.StartsWith("repolock-digest v2\n", listing, StringComparison.Ordinal);
        Assert.True(listing.Length < 64 * 1024);
        Assert.Equal(ErrorCodes.BundleDigestMismatch, e.Code);
        Assert.Contains("node_modules/@fixture/dep-two/index.js (in @fixture/dep-two@1.0.0: changed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sentinel_with_a_version_1_digest_is_still_verified_with_the_rules_it_was_written_with()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var adaptor = repo.Layout.AdaptorDir(X.Alias);
        var v1 = LegacyDigest.Listing(repo.Layout.Root, adaptor);
        File.WriteAllText(repo.Layout.DigestListingPath(X.Alias), v1);
        File.WriteAllText(repo.Layout.SentinelPath(X.Alias),
            $$"""{"name":"x","version":"1.0.0","alias":"x_1.0.0","integrity":null,"installedAt":"2026-01-01T00:00:00+00:00","host":"h","machineId":"m","processId":1,"repoLockVersion":"0.3.0","digest":"{{LegacyDigest.Of(v1)}}"}""");
        var log = new CollectingLog();

        RepoBundle.Create(repo.Layout, [X], Dest, null, log: log);
        Assert.Empty(log.Lines);

        File.AppendAllText(Path.Combine(adaptor, "index.js"), "// changed\n");
        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(repo.Layout, [X], Dest + "2", null));
        Assert.Equal(ErrorCodes.BundleDigestMismatch, e.Code);
        Assert.Contains("x@1.0.0/index.js (changed)", e.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, TarEntry> ArchiveEntries(string archive)
    {
        using var tar = new TarReader(new GZipStream(File.OpenRead(archive), CompressionMode.Decompress));
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        while (tar.GetNextEntry() is { } entry)
        {
            entries[entry.Name.TrimEnd('/')] = entry;
        }

        return entries;
    }
}
