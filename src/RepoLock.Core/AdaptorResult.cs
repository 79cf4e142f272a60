namespace RepoLock.Core;

/// <summary>One installed adaptor: where it is, how it got there, and how long that took.</summary>
/// <param name="Adaptor">The exact adaptor (dist-tags resolved).</param>
/// <param name="Outcome">Already there, installed by this call, or installed by a peer.</param>
/// <param name="Duration">Time installing (<see cref="InstallOutcome.Installed"/>) or waiting (<see cref="InstallOutcome.InstalledByPeer"/>).</param>
/// <param name="AdaptorPath"><c>&lt;repo&gt;/node_modules/&lt;alias&gt;</c>.</param>
/// <param name="SentinelPath"><c>&lt;repo&gt;/.sentinels/&lt;alias&gt;.done</c>.</param>
public sealed record AdaptorResult(AdaptorSpecifier Adaptor, InstallOutcome Outcome, TimeSpan Duration, string AdaptorPath, string SentinelPath);
