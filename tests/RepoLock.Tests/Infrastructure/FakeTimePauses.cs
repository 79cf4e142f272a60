using Microsoft.Extensions.Time.Testing;

namespace RepoLock.Tests.Infrastructure;

/// <summary>A waiter's pause on a fake clock: the clock moves in small steps until the pause ends, as it would on its own.</summary>
internal static class FakeTimePauses
{
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Runs one <see cref="LockWaiter.PauseAsync"/>, moving <paramref name="time"/> <see cref="Step"/> at a time until it ends (at the next
    /// attempt the waiter scheduled, or earlier when it is woken); <paramref name="eachStep"/> runs after every step (it plays the holder).
    /// </summary>
    public static async Task PauseAsync(this LockWaiter waiter, FakeTimeProvider time, Action? eachStep = null)
    {
        var pause = waiter.PauseAsync(CancellationToken.None);
        while (!pause.IsCompleted)
        {
            time.Advance(Step);
            eachStep?.Invoke();
            await Task.Yield();
        }

        await pause;
    }
}
