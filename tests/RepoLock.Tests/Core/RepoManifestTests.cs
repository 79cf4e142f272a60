using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

public class RepoManifestTests
{
    [Fact]
    public void Creates_the_manifest_when_absent()
    {
        using var dir = new TempDir();
        var path = dir.Combine("package.json");

        RepoManifest.Add(path, AdaptorSpecifier.Parse("@openfn/language-http@7.2.10"));

        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal("openfn-repo", json["name"]!.GetValue<string>());
        Assert.True(json["private"]!.GetValue<bool>());
        Assert.Equal("npm:@openfn/language-http@7.2.10", json["dependencies"]!["@openfn/language-http_7.2.10"]!.GetValue<string>());
    }

    [Fact]
    public void Adds_entries_and_keeps_existing_content()
    {
        using var dir = new TempDir();
        var path = dir.Combine("package.json");
        File.WriteAllText(path, """{ "name": "mine", "private": true, "dependencies": { "x_1.0.0": "npm:x@1.0.0" }, "custom": 42 }""");

        RepoManifest.Add(path, AdaptorSpecifier.Parse("y@2.0.0"));

        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal("mine", json["name"]!.GetValue<string>());
        Assert.Equal(42, json["custom"]!.GetValue<int>());
        Assert.Equal("npm:x@1.0.0", json["dependencies"]!["x_1.0.0"]!.GetValue<string>());
        Assert.Equal("npm:y@2.0.0", json["dependencies"]!["y_2.0.0"]!.GetValue<string>());
    }

    [Fact]
    public void Adding_an_entry_twice_writes_once()
    {
        using var dir = new TempDir();
        var path = dir.Combine("package.json");
        var spec = AdaptorSpecifier.Parse("y@2.0.0");

        Assert.True(RepoManifest.Add(path, spec));
        var before = File.GetLastWriteTimeUtc(path);
        Assert.False(RepoManifest.Add(path, spec));

        Assert.Equal(before, File.GetLastWriteTimeUtc(path));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1,2]")]
    [InlineData("""{ "dependencies": [] }""")]
    public void A_manifest_that_is_not_an_OpenFn_manifest_is_RL4001_and_left_alone(string content)
    {
        using var dir = new TempDir();
        var path = dir.Combine("package.json");
        File.WriteAllText(path, content);

        var e = Assert.Throws<RepoLockException>(() => RepoManifest.Add(path, AdaptorSpecifier.Parse("y@2.0.0")));

        Assert.Equal(ErrorCodes.ManifestCorrupt, e.Code);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public async Task Concurrent_adds_in_one_process_keep_every_entry()
    {
        // One process's adds queue on its in-process gate before the file lock; the file lock between processes is contended in
        // Races/MultiProcessTests.Processes_adding_to_the_manifest_behind_a_held_manifest_lock_wait_for_it_and_lose_no_entry.
        using var dir = new TempDir();
        var layout = new RepoLayout(dir.Path);
        var locks = new LockService(new LockSettings { PollInterval = TimeSpan.FromMilliseconds(5) });
        var specs = Enumerable.Range(0, 40).Select(i => AdaptorSpecifier.Parse($"pkg-{i}@1.0.{i}")).ToList();

        await Task.WhenAll(specs.Select(s => Task.Run(() => RepoManifest.AddAsync(layout, locks, s, default))));

        var deps = JsonNode.Parse(File.ReadAllText(layout.ManifestPath))!["dependencies"]!.AsObject();
        Assert.Equal(40, deps.Count);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }
}
