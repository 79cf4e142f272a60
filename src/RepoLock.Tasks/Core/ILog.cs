namespace RepoLock.Core;

/// <summary>What the core tells the user. The MSBuild task maps this to its logger; tests collect it.</summary>
public interface IRepoLockLog
{
    /// <summary>A line the user sees at normal verbosity.</summary>
    void Info(string message);

    /// <summary>Detail for detailed verbosity.</summary>
    void Detail(string message);

    void Warning(string code, string message);
}

public sealed class NullLog : IRepoLockLog
{
    public static readonly NullLog Instance = new();
    public void Info(string message) { }
    public void Detail(string message) { }
    public void Warning(string code, string message) { }
}
