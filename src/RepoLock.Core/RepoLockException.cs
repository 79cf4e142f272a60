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

    /// <summary>The file the mistake is in (an <c>OpenFnProject</c> file, or the project that defines an <c>Adaptor</c> item), or null.</summary>
    public string? File { get; private init; }

    /// <summary>The 1-based line of the mistake in <see cref="File"/>, or 0 when not known.</summary>
    public int Line { get; private init; }

    /// <summary>The 1-based column of the mistake in <see cref="File"/>, or 0 when not known.</summary>
    public int Column { get; private init; }

    /// <summary>The adaptor the failure is about, when it is about one (an install, a dist-tag), or null.</summary>
    public AdaptorSpecifier? Adaptor { get; private init; }

    /// <summary>The same failure, about <paramref name="adaptor"/>.</summary>
    internal RepoLockException About(AdaptorSpecifier adaptor) =>
        new(Code, Message, InnerException) { File = File, Line = Line, Column = Column, Adaptor = adaptor };

    /// <summary>The same failure, located in <paramref name="file"/> at <paramref name="line"/> and <paramref name="column"/>.</summary>
    internal RepoLockException At(string? file, int line = 0, int column = 0) =>
        new(Code, Message, InnerException) { File = file, Line = line, Column = column, Adaptor = Adaptor };
}
