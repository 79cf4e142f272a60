using System.Formats.Tar;
using System.IO.Compression;
using RepoLock.Core;
using RepoLock.Core.Bundle;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>Links planted in a shared repo (real symlinks): RepoLock never reads, writes, deletes or ships anything outside the repo through one.</summary>
public class ConfinementTests : IClassFixture<InstallFixture>, IDisposable
{
    private const string Beta = "@fixture/language-beta@1.2.0";
    private const string BetaAlias = "@fixture/language-beta_1.2.0";
    private const string Secret = "SECRET-CREDENTIALS-0xC0FFEE";

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("confine");
    private readonly CollectingLog _log = new();
    private readonly RepoLayout _layout;
    private readonly string _outside;

    public ConfinementTests(InstallFixture fx)
    {
        _fx = fx;
        _layout = new RepoLayout(_dir.Combine("repo"));
        Directory.CreateDirectory(_layout.Root);
        _outside = Directory.CreateDirectory(_dir.Combine("outside")).FullName;
    }

    public void Dispose() => _dir.Dispose();

    private AdaptorRepo Repo(IProcessRunner? runner = null) => new(_layout, _fx.Settings(), _log, runner);

    private static IReadOnlyList<AdaptorSpecifier> Specs(params string[] s) => s.Select(x => AdaptorSpecifier.Parse(x)).ToList();

    private string[] OutsideEntries() =>
        Directory.EnumerateFileSystemEntries(_outside, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order().ToArray();

    private string SecretFile()
    {
        var file = Path.Combine(_outside, "credentials");
        File.WriteAllText(file, Secret);
        return file;
    }

    private async Task InstallBeta()
    {
        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.Message)));
    }

    [Fact]
    public async Task A_staging_folder_that_is_a_link_to_an_outside_folder_is_refused_with_RL4002_and_the_outside_folder_is_kept()
    {
        var old = Directory.CreateDirectory(Path.Combine(_outside, "hour-old-work")).FullName;
        File.WriteAllText(Path.Combine(old, "data"), "keep me");
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-1));
        Directory.CreateSymbolicLink(_layout.StagingDir, _outside);
        var before = OutsideEntries();
        var runner = new CountingRunner();

        var result = await Repo(runner).EnsureInstalledAsync(Specs(Beta), default);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(ErrorCodes.LinkInRepo, failure.Code);
        Assert.Contains(_layout.StagingDir, failure.Message);
        Assert.Equal(before, OutsideEntries());
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(old, "data")));
        Assert.Equal(0, runner.Count); // npm never ran
        Assert.False(_layout.IsInstalled(BetaAlias));
    }

    [Fact]
    public async Task A_scope_folder_in_node_modules_that_is_a_link_is_refused_with_RL4002_and_nothing_is_written_through_it()
    {
        Directory.CreateDirectory(_layout.NodeModules);
        Directory.CreateSymbolicLink(Path.Combine(_layout.NodeModules, "@fixture"), _outside);

        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(ErrorCodes.LinkInRepo, Assert.Single(result.Failures).Code);
        Assert.Empty(OutsideEntries());
        Assert.False(File.Exists(_layout.SentinelPath(BetaAlias)));
    }

    [Fact]
    public async Task A_sentinel_that_is_a_link_to_an_outside_file_counts_as_not_installed_with_RL4003_and_is_replaced_not_followed()
    {
        await InstallBeta();
        var secret = SecretFile();
        File.Delete(_layout.SentinelPath(BetaAlias));
        File.CreateSymbolicLink(_layout.SentinelPath(BetaAlias), secret);

        Assert.False(_layout.IsInstalled(BetaAlias));
        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(InstallOutcome.Installed, Assert.Single(result.Adaptors).Outcome);
        Assert.Contains(_log.Lines, l => l.StartsWith($"warning {ErrorCodes.NotARegularFile}:", StringComparison.Ordinal) && l.Contains(_layout.SentinelPath(BetaAlias)));
        Assert.Null(new FileInfo(_layout.SentinelPath(BetaAlias)).LinkTarget); // a regular file again
        Assert.Equal(Secret, File.ReadAllText(secret));                       // the outside file was neither read into nor written
        Assert.True(_layout.IsInstalled(BetaAlias));
    }

    [Fact]
    public async Task The_bundle_never_ships_an_outside_file_that_a_sentinel_link_points_to()
    {
        await InstallBeta();
        File.Delete(_layout.SentinelPath(BetaAlias));
        File.CreateSymbolicLink(_layout.SentinelPath(BetaAlias), SecretFile());
        var dest = _dir.Combine("publish", "openfn-repo");

        Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta), dest, dest + ".tar.gz"));

        Assert.False(Directory.Exists(_dir.Combine("publish")) && Directory.EnumerateFiles(_dir.Combine("publish"), "*", SearchOption.AllDirectories)
            .Any(f => File.ReadAllText(f).Contains(Secret, StringComparison.Ordinal)));
        Assert.False(Directory.Exists(dest));
    }

    [Fact]
    public async Task The_bundle_refuses_a_link_that_leaves_the_adaptor_with_RL4004_naming_it_and_writes_nothing()
    {
        await InstallBeta();
        var link = Path.Combine(_layout.AdaptorDir(BetaAlias), "config.json");
        File.CreateSymbolicLink(link, SecretFile());
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta), dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.LinkLeavesAdaptor, e.Code);
        Assert.Contains(link, e.Message);
        Assert.False(Directory.Exists(dest));
        Assert.False(File.Exists(dest + ".tar.gz"));
    }

    [Fact]
    public async Task A_dangling_link_inside_an_adaptor_is_refused_with_RL4004_and_nothing_is_written()
    {
        await InstallBeta();
        var link = Path.Combine(_layout.AdaptorDir(BetaAlias), "lib", "gone");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, "../no-such-file.js"); // inside the adaptor, but nothing there: PublishContainer would fail on it (an npm .bin entry is left out instead)
        var dest = _dir.Combine("publish", "openfn-repo");

        var e = Assert.Throws<RepoLockException>(() => RepoBundle.Create(_layout, Specs(Beta), dest, dest + ".tar.gz"));

        Assert.Equal(ErrorCodes.LinkLeavesAdaptor, e.Code);
        Assert.Contains(link, e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.False(Directory.Exists(dest));
        Assert.False(File.Exists(dest + ".tar.gz"));
    }

    [Fact]
    public async Task Links_inside_an_adaptor_stay_links_in_the_bundle_and_the_archive_never_follows_a_directory_link()
    {
        await InstallBeta();
        var adaptor = _layout.AdaptorDir(BetaAlias);
        Directory.CreateDirectory(Path.Combine(adaptor, "node_modules", ".bin"));
        File.CreateSymbolicLink(Path.Combine(adaptor, "node_modules", ".bin", "tool"), "../../index.js"); // as npm's .bin links
        Directory.CreateSymbolicLink(Path.Combine(adaptor, "same"), "node_modules");                       // a directory link inside
        var dest = _dir.Combine("publish", "openfn-repo");
        var unverified = new RepoLock.Core.Bundle.BundleOptions(false, RepoLock.Core.Bundle.ReproducibleArchive.DefaultTimestamp); // links added after install: the digest would (rightly) refuse them

        RepoBundle.Create(_layout, Specs(Beta), dest, dest + ".tar.gz", unverified);

        Assert.Equal("../../index.js", new FileInfo(Path.Combine(dest, "node_modules", BetaAlias, "node_modules", ".bin", "tool")).LinkTarget);
        using var tar = new TarReader(new GZipStream(File.OpenRead(dest + ".tar.gz"), CompressionMode.Decompress));
        var entries = new Dictionary<string, TarEntryType>();
        while (tar.GetNextEntry() is { } entry)
        {
            entries[entry.Name.TrimEnd('/')] = entry.EntryType;
        }

        Assert.Equal(TarEntryType.SymbolicLink, entries[$"node_modules/{BetaAlias}/same"]);
        Assert.DoesNotContain(entries.Keys, k => k.StartsWith($"node_modules/{BetaAlias}/same/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deleting_a_half_install_removes_a_link_inside_it_but_never_what_the_link_points_to()
    {
        File.WriteAllText(Path.Combine(_outside, "precious"), "keep");
        var half = Directory.CreateDirectory(_layout.AdaptorDir(BetaAlias)).FullName;
        Directory.CreateSymbolicLink(Path.Combine(half, "evil"), _outside);

        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(InstallOutcome.Installed, Assert.Single(result.Adaptors).Outcome);
        Assert.False(Path.Exists(Path.Combine(_layout.AdaptorDir(BetaAlias), "evil")));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(_outside, "precious")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_layout.StagingDir)); // the half-install went with the staging folder
    }

    [Fact]
    public async Task A_repo_manifest_that_is_a_link_is_refused_with_RL4002_and_never_written_through()
    {
        var target = Path.Combine(_outside, "package.json");
        File.WriteAllText(target, """{ "name": "someone-elses", "dependencies": {} }""");
        File.CreateSymbolicLink(_layout.ManifestPath, target);

        var result = await Repo().EnsureInstalledAsync(Specs(Beta), default);

        Assert.Equal(ErrorCodes.LinkInRepo, Assert.Single(result.Failures).Code);
        Assert.Equal("""{ "name": "someone-elses", "dependencies": {} }""", File.ReadAllText(target));
    }
}
