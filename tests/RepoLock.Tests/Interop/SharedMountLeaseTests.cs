using RepoLock.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RepoLock.Tests.Interop;

/// <summary>
/// The lease through two sshfs mounts of one folder (two machines on one export, with client caches and whole-second mtimes): a RepoLock
/// holder in another PID namespace on mount 1 renews its record, a waiter on mount 2 reads it fresh (the record is opened anew on every
/// poll; sshfs reads contents from the server) and never mistakes the caches for a dead holder; once the holder is killed, the waiter takes
/// over after the grace, with the production stale age of 300 s. Skipped (with the reason) without root, /dev/fuse, sshfs, sshd or unshare.
/// </summary>
public sealed class SharedMountLeaseTests : IClassFixture<SshfsPair>, IDisposable
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Grace = LockSettings.DefaultLeaseGrace;

    /// <summary>How long a live holder is watched: past its grace by more than one observation and one poll, so a waiter that would judge it
    /// dead on the lease's clock has had every chance to.</summary>
    private static readonly TimeSpan Alive = Grace + LockSettings.DefaultObserveInterval + LockSettings.DefaultMaxPollInterval;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    private readonly SshfsPair _mounts;
    private readonly ITestOutputHelper _output;
    private readonly string _folder = $"t-{Guid.NewGuid():N}";

    public SharedMountLeaseTests(SshfsPair mounts, ITestOutputHelper output)
    {
        _mounts = mounts;
        _output = output;
    }

    public void Dispose()
    {
        if (_mounts.SkipReason is null)
        {
            try
            {
                Directory.Delete(Path.Combine(_mounts.Shared, _folder), recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    [SkippableFact]
    public async Task A_holder_in_another_pid_namespace_on_one_mount_keeps_its_lease_and_is_taken_over_from_the_other_after_its_grace()
    {
        Prerequisite.SkipUnlessAvailable(_mounts.SkipReason);
        Prerequisite.SkipUnlessAvailable(Unshare.WhyNot);
        var target = Path.Combine(_mounts.Mount1, _folder, ".locks", "adaptor.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var holder = HostLocks.Hold(target, Stale, prefix: Unshare.Prefix);
        await holder.WaitForLineAsync("LOCKED", Step);
        using var waiter = HostLocks.Hold(Path.Combine(_mounts.Mount2, _folder, ".locks", "adaptor.lock"), Stale);
        await waiter.WaitForLineAsync("is held by", Step);

        var takenWhileAlive = await waiter.PrintsWithinAsync("LOCKED", Alive);
        holder.Kill();
        var killedAt = DateTime.UtcNow;
        var takenAt = await waiter.SeenAtAsync("LOCKED", TimeSpan.FromSeconds(60));

        _output.WriteLine($"sshfs, RepoLock holder in another PID namespace on mount 1, waiter on mount 2, stale age 300 s: alive {Alive.TotalSeconds} s, never taken; killed -> taken over in {(takenAt - killedAt).TotalSeconds:0.00} s ({SshfsPair.CacheSeconds} s sshfs cache)");
        Assert.False(takenWhileAlive, waiter.Output);
        Assert.DoesNotContain(ErrorCodes.LockLost, holder.Output);
        Assert.Contains("has not renewed its lease", waiter.Output);
        await waiter.ReleaseAsync();
    }
}
