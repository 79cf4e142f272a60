namespace RepoLock.Core;

/// <summary>Something left in a repo by a process that is gone, judged by the same rules installers use before they remove it.</summary>
/// <param name="Path">The file or folder.</param>
/// <param name="What">What it is and why it is judged abandoned.</param>
/// <param name="Bytes">Its size.</param>
public sealed record RepoDebris(string Path, string What, long Bytes);
