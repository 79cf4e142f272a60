namespace RepoLock.Core.Npm;

/// <summary>How a child process ended: exit code, its output (stdout and stderr interleaved), and whether it was stopped at its time limit.</summary>
internal sealed record ProcessResult(int ExitCode, string Output, bool TimedOut);
