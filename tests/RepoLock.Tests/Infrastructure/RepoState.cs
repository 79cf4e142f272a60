using System.Text.Json.Nodes;
using RepoLock.Core;

namespace RepoLock.Tests.Infrastructure;

/// <summary>What a repo looks like from outside, as a runtime worker or the next build would find it.</summary>
internal static class RepoState
{
    /// <summary>
    /// The runtime's invariant: every sentinel stands for a complete adaptor (its package.json has the sentinel's name and version),
    /// and the repo manifest is valid JSON that lists it. Returns the aliases that have a sentinel.
    /// </summary>
    public static IReadOnlyList<string> AssertConsistent(RepoLayout layout)
    {
        var manifest = RepoManifest.Read(layout.ManifestPath); // throws RL4001 on a torn or foreign file
        var aliases = new List<string>();
        if (!Directory.Exists(layout.SentinelsDir))
        {
            return aliases;
        }

        foreach (var file in Directory.EnumerateFiles(layout.SentinelsDir, "*.done", SearchOption.AllDirectories))
        {
            var sentinel = Sentinel.TryRead(file);
            Assert.True(sentinel is not null, $"sentinel {file} is not readable JSON");
            var alias = sentinel!.Alias;
            Assert.Equal(layout.SentinelPath(alias), file);
            var package = JsonNode.Parse(File.ReadAllText(layout.AdaptorManifest(alias)))!;
            Assert.Equal(sentinel.Name, package["name"]!.GetValue<string>());
            Assert.Equal(sentinel.Version, package["version"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(layout.AdaptorDir(alias), "index.js")), $"{alias} has no index.js");
            Assert.True(manifest?["dependencies"]?[alias] is not null, $"the manifest does not list {alias}");
            aliases.Add(alias);
        }

        return aliases;
    }

    /// <summary>Folders left in <c>.staging</c> (each is one interrupted or running install).</summary>
    public static IReadOnlyList<string> StagingFolders(RepoLayout layout) =>
        Directory.Exists(layout.StagingDir) ? Directory.GetDirectories(layout.StagingDir) : [];

    /// <summary>Lock directories moved aside while breaking a lock, and clock probes: both must never outlive the call that made them.</summary>
    public static IReadOnlyList<string> LockDebris(RepoLayout layout) =>
        Directory.Exists(layout.LocksDir)
            ? Directory.EnumerateFileSystemEntries(layout.LocksDir, "*", SearchOption.AllDirectories)
                .Where(p => Path.GetFileName(p).Contains(".stale-", StringComparison.Ordinal) || Path.GetFileName(p).StartsWith(".clock-probe", StringComparison.Ordinal))
                .ToList()
            : [];
}
