using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace RepoLock.Tests.MSBuild;

/// <summary>An MSBuild logger that keeps what a test asserts on: errors and warnings with their codes, messages with their importance, target order.</summary>
internal sealed class CollectingLogger : ILogger
{
    public ConcurrentQueue<BuildErrorEventArgs> Errors { get; } = new();

    public ConcurrentQueue<BuildWarningEventArgs> Warnings { get; } = new();

    public ConcurrentQueue<BuildMessageEventArgs> Messages { get; } = new();

    /// <summary>High-importance messages (what the default verbosity shows) with the time this logger received each.</summary>
    public ConcurrentQueue<(DateTime ReceivedUtc, string Message)> Shown { get; } = new();

    /// <summary>Targets in the order they started.</summary>
    public ConcurrentQueue<string> TargetsStarted { get; } = new();

    public LoggerVerbosity Verbosity { get; set; } = LoggerVerbosity.Diagnostic;

    public string? Parameters { get; set; }

    public IReadOnlyList<string> ErrorCodes => Errors.Select(e => e.Code).ToList();

    /// <summary>Everything, one line per event, for assertion messages.</summary>
    public string Transcript => string.Join(Environment.NewLine,
        Errors.Select(e => $"error {e.Code}: {e.Message}")
            .Concat(Warnings.Select(w => $"warning {w.Code}: {w.Message}"))
            .Concat(Messages.Where(m => m.Importance != MessageImportance.Low).Select(m => $"message ({m.Importance}): {m.Message}")));

    public void Initialize(IEventSource eventSource)
    {
        eventSource.ErrorRaised += (_, e) => Errors.Enqueue(e);
        eventSource.WarningRaised += (_, e) => Warnings.Enqueue(e);
        eventSource.TargetStarted += (_, e) => TargetsStarted.Enqueue(e.TargetName);
        eventSource.MessageRaised += (_, e) =>
        {
            Messages.Enqueue(e);
            if (e.Importance == MessageImportance.High)
            {
                Shown.Enqueue((DateTime.UtcNow, e.Message ?? ""));
            }
        };
    }

    public void Shutdown()
    {
    }
}
