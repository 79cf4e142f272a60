namespace RepoLock.Core.Project;

/// <summary>One adaptor an OpenFn project file names, with where the value is (1-based line and column), for messages.</summary>
/// <param name="Adaptor">The adaptor, parsed as an <c>Adaptor</c> item would be.</param>
/// <param name="File">The project file, as a full path.</param>
/// <param name="Line">The line of the value.</param>
/// <param name="Column">The column of the value.</param>
internal sealed record ProjectAdaptor(AdaptorSpecifier Adaptor, string File, int Line, int Column);
