namespace RepoLock.Core;

/// <summary>A failure with a stable RepoLock error code (<see cref="ErrorCodes"/>). The message says what, where, and what to do.</summary>
public sealed class RepoLockException : Exception
{
    /// <summary>A coded failure.</summary>
    /// <param name="code">One of <see cref="ErrorCodes"/>.</param>
    /// <param name="message">What happened, to which adaptor, where, and what to do next.</param>
    /// <param name="inner">The exception that caused it, if any.</param>
    public RepoLockException(string code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>The stable code, for example <c>RL2001</c>.</summary>
    public string Code { get; }
}
