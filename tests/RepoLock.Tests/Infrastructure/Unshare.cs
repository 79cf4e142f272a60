using System.Diagnostics;

namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// <c>unshare --pid --fork --mount-proc</c>: runs a process in its own PID namespace, so RepoLock sees it as another machine
/// (its machine id includes the PID namespace, and its pid means nothing here). Needs root or CAP_SYS_ADMIN.
/// </summary>
internal static class Unshare
{
    public static readonly string[] Prefix = ["unshare", "--pid", "--fork", "--mount-proc"];

    private static readonly Lazy<string?> Problem = new(Probe);

    /// <summary>Null when unshare works here; otherwise why not (the skip message).</summary>
    public static string? WhyNot => Problem.Value;

    private static string? Probe()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Prefix[0])
            {
                ArgumentList = { Prefix[1], Prefix[2], Prefix[3], "true" },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"'unshare --pid --fork --mount-proc' failed here (exit {p.ExitCode}: {error.Trim()}); it needs root or CAP_SYS_ADMIN.";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"unshare is not available: {e.Message}.";
        }
    }
}
