using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using RepoLock.Core;

namespace RepoLock;

/// <summary>
/// The core's log on MSBuild's logger. <see cref="Info"/> logs at high importance, so the one-line summary and "waiting for ..." reports
/// show at the default (minimal) verbosity of <c>dotnet build</c>; detail is low importance.
/// </summary>
internal sealed class MSBuildLog : IRepoLockLog
{
    private readonly TaskLoggingHelper _log;
    private readonly string? _projectFile;

    /// <param name="log">The task's logger.</param>
    /// <param name="projectFile">The project being built: the file named by a diagnostic that carries no file of its own.</param>
    public MSBuildLog(TaskLoggingHelper log, string? projectFile = null)
    {
        _log = log;
        _projectFile = string.IsNullOrEmpty(projectFile) ? null : projectFile;
    }

    public void Info(string message) => _log.LogMessage(MessageImportance.High, message);

    public void Detail(string message) => _log.LogMessage(MessageImportance.Low, message);

    public void Warning(string code, string message) => _log.LogWarning(null, code, null, _projectFile, 0, 0, 0, 0, message);

    /// <summary>A coded error at the file, line and column it is about (an <c>OpenFnProject</c> value, an item's defining project).</summary>
    public void Error(RepoLockException e) => _log.LogError(null, e.Code, null, e.File ?? _projectFile, e.Line, e.Column, 0, 0, e.Message);
}
