namespace RepoLock.Core;

/// <summary>A failure with a stable RepoLock error code (RLnnnn). The message says what, where, and what to do.</summary>
public sealed class RepoLockException : Exception
{
    public RepoLockException(string code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    public string Code { get; }
}
