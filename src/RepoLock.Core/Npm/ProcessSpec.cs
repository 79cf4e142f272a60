namespace RepoLock.Core.Npm;

/// <summary>A child process to run: program, arguments as a list, working folder, time limit and extra environment.</summary>
internal sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, TimeSpan Timeout)
{
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();
}
