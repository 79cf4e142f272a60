using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Crash;

/// <summary>
/// A waiter that cannot read the holder's /proc entry (a /proc mounted with hidepid=2, the holder another user's process) must count the
/// holder alive: kill(pid, 0) answers EPERM for a process that exists, and any doubt is "alive". A pid that does not exist is still gone.
/// Needs root (to mount a /proc of our own and to become another user); skipped otherwise.
/// </summary>
public sealed class HiddenProcessTests
{
    private static async Task<string> JudgeAsOtherUserBehindHidepidAsync(int pid, string processStart)
    {
        // As nobody behind hidepid=2, the holder's /proc entry is not even visible (checked: "VISIBLE" fails the test); then judge it.
        var asNobody = "if [ -e /proc/$2/stat ]; then echo VISIBLE; else exec dotnet \"$1\" alive \"$2\" \"$3\"; fi";
        var script = $"mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp sh -c '{asNobody}' sh \"$0\" \"$1\" \"$2\"";
        var result = await ChildProcess.RunAsync("unshare", ["--mount", "sh", "-c", script, TestPaths.TestHostDll, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), processStart], timeout: TimeSpan.FromSeconds(60));
        Prerequisite.SkipUnlessAvailable(result.ExitCode != 0 && result.Stderr.Contains("mount", StringComparison.Ordinal) ? $"cannot mount a hidepid /proc here: {result.Stderr}" : null);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.Stdout.Trim();
    }

    [SkippableFact]
    public async Task A_holder_whose_proc_entry_is_hidden_from_the_waiter_counts_as_alive()
    {
        Prerequisite.SkipUnlessAvailable(OperatingSystem.IsLinux() && Environment.UserName == "root" ? null : "needs root on Linux");
        var self = MachineIdentity.Current;
        Assert.Equal("ALIVE", await JudgeAsOtherUserBehindHidepidAsync(self.ProcessId, self.ProcessStart));
    }

    [SkippableFact]
    public async Task A_pid_that_no_longer_exists_counts_as_gone_even_behind_hidepid()
    {
        Prerequisite.SkipUnlessAvailable(OperatingSystem.IsLinux() && Environment.UserName == "root" ? null : "needs root on Linux");
        using var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        var start = MachineIdentity.ProcessStartOf(gone.Id) ?? "1";
        gone.WaitForExit();

        Assert.Equal("GONE", await JudgeAsOtherUserBehindHidepidAsync(gone.Id, start));
    }
}
