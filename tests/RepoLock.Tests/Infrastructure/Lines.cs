namespace RepoLock.Tests.Infrastructure;

/// <summary>Awaiting a child's output line and noting when it came (for recovery and takeover times).</summary>
internal static class Lines
{
    /// <summary>Waits for a line containing <paramref name="text"/>; returns the local time at which it was seen.</summary>
    public static async Task<DateTime> SeenAtAsync(this ChildProcess child, string text, TimeSpan timeout)
    {
        await child.WaitForLineAsync(text, timeout);
        return DateTime.UtcNow;
    }

    /// <summary>True if <paramref name="text"/> is printed within <paramref name="window"/>; false if the window passes without it.</summary>
    public static async Task<bool> PrintsWithinAsync(this ChildProcess child, string text, TimeSpan window)
    {
        var left = await Poll.WhileAsync(() => !child.Output.Contains(text, StringComparison.Ordinal), window);
        return left < window;
    }

    /// <summary>Tells a holder (lock-hold.cjs or the TestHost hold verb) to let go, and waits until it has.</summary>
    public static async Task ReleaseAsync(this ChildProcess holder)
    {
        await holder.StandardInput.WriteLineAsync("release");
        await holder.StandardInput.FlushAsync();
        await holder.WaitForLineAsync("RELEASED", TimeSpan.FromSeconds(30));
    }
}
