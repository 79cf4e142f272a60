using System.ComponentModel;

namespace RepoLock.Core.Npm;

/// <summary>Starts child processes. A seam: tests substitute it to simulate npm failures without a registry.</summary>
internal interface IProcessRunner
{
    /// <exception cref="Win32Exception">the program could not be started.</exception>
    /// <exception cref="OperationCanceledException">cancelled; the process tree was killed.</exception>
    Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken);
}
