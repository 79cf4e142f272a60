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

    public MSBuildLog(TaskLoggingHelper log) => _log = log;

    public void Info(string message) => _log.LogMessage(MessageImportance.High, message);

    public void Detail(string message) => _log.LogMessage(MessageImportance.Low, message);

    public void Warning(string code, string message) => _log.LogWarning(null, code, null, null, 0, 0, 0, 0, message);

    public void Error(RepoLockException e) => _log.LogError(null, e.Code, null, null, 0, 0, 0, 0, e.Message);
}
