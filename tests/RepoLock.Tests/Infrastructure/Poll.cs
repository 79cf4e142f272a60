using System.Diagnostics;

namespace RepoLock.Tests.Infrastructure;

/// <summary>Waiting for an outcome a file or a process state can show, checked every few milliseconds (never a fixed sleep).</summary>
internal static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>Completes as soon as <paramref name="done"/> is true; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> done, TimeSpan timeout, string what, Func<string>? details = null)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0.#} s.{(details is null ? "" : "\n" + details())}");
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>
    /// Watches <paramref name="stillTrue"/> for <paramref name="duration"/> (a time the test needs to pass, such as a stale age);
    /// returns how long it stayed true: <paramref name="duration"/> if it never turned false.
    /// </summary>
    public static async Task<TimeSpan> WhileAsync(Func<bool> stillTrue, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            if (!stillTrue())
            {
                return clock.Elapsed;
            }

            await Task.Delay(Interval);
        }

        return duration;
    }
}
