using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

public class RepoBundleTests : IClassFixture<InstallFixture>, IDisposable
{
    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("bundle");

    public RepoBundleTests(InstallFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_bundle_holds_exactly_the_given_complete_adaptors_as_a_folder_and_a_tar_gz()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var wanted = AdaptorSpecifier.Parse("@fixture/language-alpha@1.0.0");
        var other = AdaptorSpecifier.Parse("@fixture/language-beta@1.2.0");
        Assert.True((await new AdaptorRepo(layout, _fx.Settings()).EnsureInstalledAsync([wanted, other], default)).Succeeded);
        var dest = _dir.Combine("publish", "openfn-repo");
        var archive = _dir.Combine("publish", "openfn-repo.tar.gz");

        RepoBundle.Create(layout, [wanted], dest, archive);

        var bundled = new RepoLayout(dest);
        Assert.True(bundled.IsInstalled(wanted.Alias));
        Assert.False(Directory.Exists(bundled.AdaptorDir(other.Alias)));
        Assert.True(File.Exists(Path.Combine(bundled.AdaptorDir(wanted.Alias), "node_modules", "@fixture", "dep-one", "package.json")));
        var deps = JsonNode.Parse(File.ReadAllText(bundled.ManifestPath))!["dependencies"]!.AsObject();
        Assert.Equal([wanted.Alias], deps.Select(d => d.Key));
        Assert.False(Directory.Exists(bundled.LocksDir));
        Assert.False(Directory.Exists(bundled.StagingDir));

        using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        var entries = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            entries.Add(entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name);
        }

        var onDisk = Directory.EnumerateFileSystemEntries(dest, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(dest, p).Replace('\\', '/'));
        Assert.Equal(onDisk.Order(StringComparer.Ordinal), entries.Select(e => e.TrimEnd('/')).Order(StringComparer.Ordinal)); // dot-files too
        Assert.Contains("package.json", entries);
        Assert.Contains($"node_modules/{wanted.Alias}/package.json", entries);
        Assert.Contains($".sentinels/{wanted.Alias}.done", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith($"node_modules/{other.Alias}", StringComparison.Ordinal));
    }

    [Fact]
    public void Bundling_an_adaptor_that_is_not_installed_is_RL6004_and_writes_no_bundle()
    {
        var layout = new RepoLayout(_dir.Combine("empty-repo"));
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(layout, [AdaptorSpecifier.Parse("@fixture/language-beta@1.2.0")], dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.BundleNotInstalled, e.Code);
        Assert.False(Directory.Exists(dest));
        Assert.False(File.Exists(dest + ".tar.gz"));
        Assert.Empty(Directory.Exists(_dir.Combine("publish")) ? Directory.GetFileSystemEntries(_dir.Combine("publish")) : []);
    }
}
