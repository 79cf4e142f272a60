namespace RepoLock.Core;

/// <summary>What the core tells the user. The MSBuild task maps this to its logger, the tool to the console; tests collect it.</summary>
public interface IRepoLockLog
{
    /// <summary>A line the user sees at normal verbosity.</summary>
    void Info(string message);

    /// <summary>Detail for detailed verbosity.</summary>
    void Detail(string message);

    /// <summary>A coded warning (<see cref="ErrorCodes"/>).</summary>
    void Warning(string code, string message);
}
