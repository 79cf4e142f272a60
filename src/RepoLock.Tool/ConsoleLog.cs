using RepoLock.Core;

namespace RepoLock.Tool;

/// <summary>The core's messages on the console: lines to <paramref name="info"/> (stdout, or stderr when stdout carries JSON), warnings to stderr.</summary>
internal sealed class ConsoleLog(TextWriter info) : IRepoLockLog
{
    public void Info(string message) => info.WriteLine(message);

    public void Detail(string message)
    {
    }

    public void Warning(string code, string message) => Console.Error.WriteLine($"warning {code}: {message}");
}
