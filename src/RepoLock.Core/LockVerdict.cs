namespace RepoLock.Core;

/// <summary>What the waiters' rules make of a lock's holder.</summary>
public enum LockVerdict
{
    /// <summary>The holder is working: a process on this machine that is running, or a lock refreshed on its holder's schedule.</summary>
    Alive,

    /// <summary>A waiter would break this lock now: its holder is provably gone, or the lock is older than the stale age.</summary>
    Dead,

    /// <summary>Neither can be shown yet: a holder on another machine that has missed refreshes but is not past the stale age, or no clock to judge by.</summary>
    Unknown,
}
