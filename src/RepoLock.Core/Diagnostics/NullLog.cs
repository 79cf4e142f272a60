namespace RepoLock.Core.Diagnostics;

/// <summary>A log that drops everything.</summary>
internal sealed class NullLog : IRepoLockLog
{
    public static readonly NullLog Instance = new();

    public void Info(string message)
    {
    }

    public void Detail(string message)
    {
    }

    public void Warning(string code, string message)
    {
    }
}
