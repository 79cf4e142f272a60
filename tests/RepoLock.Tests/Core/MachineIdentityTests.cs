using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

public class MachineIdentityTests
{
    [Fact]
    public void This_process_is_alive_with_its_own_start_time()
    {
        var self = MachineIdentity.Current;

        Assert.True(MachineIdentity.IsProcessAlive(self.ProcessId, self.ProcessStart));
        Assert.False(MachineIdentity.IsProcessAlive(self.ProcessId, self.ProcessStart + "1")); // a reused pid
    }

    [SkippableFact]
    public async Task A_killed_process_its_parent_has_not_reaped_counts_as_dead()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs /proc");
        // perl forks a child that exits at once and never waits for it (no SIGCHLD handler, no wait): the child stays a zombie. A shell
        // could reap it before its exec, and the test would then read a /proc entry that is gone.
        using var parent = ChildProcess.Start("perl", ["-e", "$| = 1; my $pid = fork(); exit 0 if $pid == 0; print \"$pid\\n\"; sleep 60;"]);
        await Poll.UntilAsync(() => parent.Stdout.Trim().Length > 0, TimeSpan.FromSeconds(10), "the child's pid");
        var zombie = int.Parse(parent.Stdout.Trim());
        await Poll.UntilAsync(() => File.ReadAllText($"/proc/{zombie}/stat").Contains(") Z ", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the child to become a zombie");

        Assert.Null(MachineIdentity.ProcessStartOf(zombie));
    }
}
