namespace RepoLock.Core;

/// <summary>One problem <see cref="RepoInspector.Verify"/> found.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Alias">The adaptor it concerns, or null for debris.</param>
/// <param name="Path">Where on disk.</param>
/// <param name="Detail">What exactly, in words.</param>
public sealed record RepoProblem(RepoProblemKind Kind, string? Alias, string Path, string Detail);
