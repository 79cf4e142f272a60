namespace RepoLock.Core;

/// <summary>A lock held in a repo, and what the waiters' rules make of its holder.</summary>
/// <param name="Alias">The adaptor alias it guards, or <c>package.json</c> for the repo manifest's lock.</param>
/// <param name="LockDir">The lock directory (proper-lockfile's <c>&lt;target&gt;.lock</c>).</param>
/// <param name="Holder">Who holds it (host, process, purpose), or a description of an unknown holder (a Node worker writes no owner record).</param>
/// <param name="Host">The holder's host, when a current owner record names it.</param>
/// <param name="ProcessId">The holder's process, when a current owner record names it.</param>
/// <param name="Since">When the holder took it, when a current owner record says.</param>
/// <param name="LastRefreshUtc">The lock directory's mtime: the holder's last refresh.</param>
/// <param name="Age">Time since the last refresh by the file server's clock, or null when that clock could not be read.</param>
/// <param name="Verdict">Alive, dead or unknown.</param>
/// <param name="Why">The reason for the verdict, in words.</param>
public sealed record LockInfo(
    string Alias, string LockDir, string Holder, string? Host, int? ProcessId, DateTimeOffset? Since, DateTime LastRefreshUtc, TimeSpan? Age,
    LockVerdict Verdict, string Why)
{
    /// <summary>The lock directory's identity and mtime as judged: a break acts on this exact instance only.</summary>
    internal Platform.DirStamp Stamp { get; init; }

    /// <summary>The owner record's text as judged, or null without one.</summary>
    internal string? RecordText { get; init; }
}
