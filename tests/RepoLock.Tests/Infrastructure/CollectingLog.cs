using System.Collections.Concurrent;
using RepoLock.Core;

namespace RepoLock.Tests.Infrastructure;

public sealed class CollectingLog : IRepoLockLog
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public string Text => string.Join("\n", Lines);

    public IReadOnlyList<string> Infos => Lines.Where(l => l.StartsWith("info: ", StringComparison.Ordinal)).Select(l => l["info: ".Length..]).ToList();

    public void Info(string message) => Lines.Enqueue("info: " + message);

    public void Detail(string message) => Lines.Enqueue("detail: " + message);

    public void Warning(string code, string message) => Lines.Enqueue($"warning {code}: {message}");
}
