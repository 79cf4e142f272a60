namespace RepoLock.Tests.Tool;

/// <summary>
/// The tool tests share one packed and installed tool (<see cref="ToolFixture"/>), and run alone after the parallel collections, like the
/// package tests: packing takes both cores for a while, and the lock tests are timing-sensitive.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ToolCollection : ICollectionFixture<ToolFixture>
{
    public const string Name = "Tool";
}
