namespace RepoLock.Tests.MSBuild;

/// <summary>
/// Every in-process BuildManager test: BuildManager.DefaultBuildManager is one per process, and these tests set process-wide
/// environment variables for the npm child processes, so they run alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MSBuildCollection
{
    public const string Name = "MSBuild in-process";
}
