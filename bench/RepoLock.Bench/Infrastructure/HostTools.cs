using System.Diagnostics;

namespace RepoLock.Bench.Infrastructure;

/// <summary>Tools the measurements borrow from the machine, and "another machine" as the tests make one: another PID namespace.</summary>
internal static class HostTools
{
    private static readonly Lazy<bool> Unshare = new(() => Works("unshare", "--pid", "--fork", "--mount-proc", "true"));

    /// <summary>Whether processes can be started in another PID namespace here (needs root): to a waiter, a holder on another machine.</summary>
    public static bool UnshareWorks => Unshare.Value;

    /// <summary>The command prefix that starts a process in another PID namespace, or nothing when <paramref name="foreign"/> is false.</summary>
    public static string[] Elsewhere(bool foreign) => foreign ? ["unshare", "--pid", "--fork", "--mount-proc"] : [];

    /// <summary>Whether the command runs here and exits 0 (installed, and allowed: strace needs ptrace, unshare root).</summary>
    public static bool Works(string tool, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(tool, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
