namespace RepoLock.Core.Install;

/// <summary>How far one install got, so a cancellation can say what state it left the repo in.</summary>
internal sealed class InstallProgress
{
    /// <summary>The state of the repo for this adaptor, as a message clause.</summary>
    public string Left { get; set; } = "npm was stopped and the repo was not changed";
}
