using RepoLock.Core;
using RepoLock.Core.Bundle;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Bundle;

/// <summary>The sentinel records what an adaptor's files were at install; a bundle ships them only if they still are.</summary>
public class BundleDigestTests : IClassFixture<BundleFixture>, IDisposable
{
    private static readonly AdaptorSpecifier Hoisted = AdaptorSpecifier.Parse(BundleFixture.Hoisted + "@1.0.0");

    private readonly BundleFixture _fx;
    private readonly TempDir _dir = new("digest");

    public BundleDigestTests(BundleFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    private async Task<RepoLayout> InstalledRepo()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        Assert.True((await new AdaptorRepo(layout, _fx.Settings).EnsureInstalledAsync([Hoisted], default)).Succeeded);
        return layout;
    }

    [Fact]
    public async Task An_install_records_the_digest_of_its_files_in_the_sentinel_and_their_listing_next_to_it()
    {
        var layout = await InstalledRepo();

        var digest = Sentinel.TryRead(layout.SentinelPath(Hoisted.Alias))!.Digest;

        Assert.Matches("^v2-sha256-[0-9a-f]{64}$", digest);
        Assert.Equal(digest, ContentDigest.Of(File.ReadAllText(layout.DigestListingPath(Hoisted.Alias))));
        Assert.Equal(digest, ContentDigest.Of(ContentDigest.Listing(layout.Root, layout.AdaptorDir(Hoisted.Alias))));
        Assert.Contains("p\tnode_modules/@fixture/dep-one\t@fixture/dep-one@2.1.0\t", File.ReadAllText(layout.DigestListingPath(Hoisted.Alias)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("index.js", "index.js (in @fixture/language-hoisted@1.0.0: changed")]
    [InlineData("node_modules/@fixture/dep-one/index.js", "node_modules/@fixture/dep-one/index.js (in @fixture/dep-one@2.1.0: changed")]
    public async Task A_file_changed_after_install_stops_the_bundle_with_RL6003_naming_the_adaptor_and_the_file(string file, string named)
    {
        var layout = await InstalledRepo();
        File.AppendAllText(Path.Combine(layout.AdaptorDir(Hoisted.Alias), file), "// changed\n");
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(layout, [Hoisted], dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleDigestMismatch, e.Code);
        Assert.Contains($"'{Hoisted}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Combine("publish")) && Directory.EnumerateFileSystemEntries(_dir.Combine("publish")).Any());
    }

    [Fact]
    public async Task With_verification_off_a_changed_adaptor_is_bundled_as_it_is()
    {
        var layout = await InstalledRepo();
        File.AppendAllText(Path.Combine(layout.AdaptorDir(Hoisted.Alias), "index.js"), "// changed\n");
        var dest = _dir.Combine("publish", "openfn-repo");

        RepoBundle.Create(layout, [Hoisted], dest, null, new BundleOptions(Verify: false, ReproducibleArchive.DefaultTimestamp));

        Assert.EndsWith("// changed\n", File.ReadAllText(Path.Combine(dest, "node_modules", Hoisted.Alias, "index.js")), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_digest_sees_bytes_executable_bits_and_link_targets_but_not_timestamps()
    {
        var repo = new FakeRepo(_dir.Combine("repo")).Adaptor("x", "1.0.0");
        var adaptor = repo.Layout.AdaptorDir("x_1.0.0");
        Directory.CreateDirectory(Path.Combine(adaptor, "bin"));
        File.CreateSymbolicLink(Path.Combine(adaptor, "bin", "run"), "../index.js");
        string Digest() => ContentDigest.Of(ContentDigest.Listing(repo.Layout.Root, adaptor));
        var before = Digest();

        File.SetLastWriteTimeUtc(Path.Combine(adaptor, "index.js"), DateTime.UtcNow.AddDays(-3));
        Assert.Equal(before, Digest());

        File.SetUnixFileMode(Path.Combine(adaptor, "index.js"), File.GetUnixFileMode(Path.Combine(adaptor, "index.js")) | UnixFileMode.UserExecute);
        var executable = Digest();
        Assert.NotEqual(before, executable);

        File.Delete(Path.Combine(adaptor, "bin", "run"));
        File.CreateSymbolicLink(Path.Combine(adaptor, "bin", "run"), "../package.json");
        Assert.NotEqual(executable, Digest());
    }

    [Fact]
    public void A_sentinel_written_before_digests_existed_still_reads_with_no_digest()
    {
        var path = _dir.Combine("old.done");
        File.WriteAllText(path, """{"name":"x","version":"1.0.0","alias":"x_1.0.0","integrity":null,"installedAt":"2026-01-01T00:00:00+00:00","host":"h","machineId":"m","processId":1,"repoLockVersion":"0.1.0"}""");

        var sentinel = Sentinel.TryRead(path)!;

        Assert.Equal("x_1.0.0", sentinel.Alias);
        Assert.Null(sentinel.Digest);
    }
}
