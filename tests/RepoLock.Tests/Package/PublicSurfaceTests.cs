using System.Reflection;

namespace RepoLock.Tests.Package;

/// <summary>What the package exposes to every consumer's build is a promise: only what front ends need, nothing of the plumbing.</summary>
public class PublicSurfaceTests
{
    private static readonly Assembly Tasks = typeof(RepoLock.EnsureAdaptorsInstalled).Assembly;
    private static readonly Assembly Core = typeof(AdaptorRepo).Assembly;

    [Fact]
    public void The_task_assembly_exposes_only_the_MSBuild_task_classes()
    {
        var exported = Tasks.GetExportedTypes().Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["RepoLock.BundleAdaptorRepo", "RepoLock.EnsureAdaptorsInstalled"], exported);
        Assert.All(Tasks.GetExportedTypes(), t => Assert.True(typeof(Microsoft.Build.Utilities.Task).IsAssignableFrom(t), t.FullName));
    }

    [Fact]
    public void The_core_exposes_a_small_intentional_api_and_no_test_hooks_or_file_and_clock_helpers()
    {
        var exported = Core.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(
            [
                "RepoLock.Core.AdaptorInfo", "RepoLock.Core.AdaptorList", "RepoLock.Core.AdaptorRepo", "RepoLock.Core.AdaptorResult", "RepoLock.Core.AdaptorSpecifier",
                "RepoLock.Core.EnsureResult", "RepoLock.Core.ErrorCodes", "RepoLock.Core.IRepoLockLog", "RepoLock.Core.InstallOutcome",
                "RepoLock.Core.LockInfo", "RepoLock.Core.LockVerdict", "RepoLock.Core.RepoBundle", "RepoLock.Core.RepoDebris",
                "RepoLock.Core.RepoInspector", "RepoLock.Core.RepoLeftover", "RepoLock.Core.RepoLeftoverKind", "RepoLock.Core.RepoLockException", "RepoLock.Core.RepoLockSettings", "RepoLock.Core.RepoMaintenance",
                "RepoLock.Core.RepoProblem", "RepoLock.Core.RepoProblemKind", "RepoLock.Core.RepoSpace", "RepoLock.Core.RepoStatus",
            ],
            exported);
        Assert.DoesNotContain(exported, n => n.Contains("Checkpoint", StringComparison.Ordinal) || n.Contains("Clock", StringComparison.Ordinal)
                                             || n.Contains("AtomicFile", StringComparison.Ordinal) || n.Contains("Native", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_public_core_type_is_documented()
    {
        var xml = Path.ChangeExtension(Core.Location, ".xml");

        var docs = File.ReadAllText(xml);

        Assert.All(Core.GetExportedTypes(), t => Assert.Contains($"\"T:{t.FullName}\"", docs));
    }
}
