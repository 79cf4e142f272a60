using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Crash;

/// <summary>
/// A RepoLock holder killed on another machine leaves its owner record beside the lock. When a Node worker later breaks that lock
/// (proper-lockfile removes only the directory) and takes it, the record describes a lock that no longer exists: waiters must not name it.
/// </summary>
public sealed class LeftoverRecordTests : IDisposable
{
    private readonly TempDir _dir = new("leftover");

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "adaptor.lock");

    [Fact]
    public void A_lock_beside_an_owner_record_older_than_it_is_described_as_an_unknown_holder()
    {
        var lockDir = LockService.LockDirFor(Target);
        Directory.CreateDirectory(lockDir); // the Node worker's lock, refreshed just now
        var record = new LockOwnerRecord
        {
            Host = "agent-7", MachineId = "another-boot/pid:[1]", ProcessId = 4242, ProcessStart = "1", Purpose = "install x@1.0.0",
            AcquiredAt = DateTimeOffset.UtcNow.AddMinutes(-20), HeartbeatIntervalMs = 10_000,
            LastHeartbeatTicks = DateTime.UtcNow.AddMinutes(-10).Ticks, // the killed holder's last refresh
        };
        record.Write(lockDir);
        var waiter = new LockService(new LockSettings()).StartWaiting(Target, "test");

        Assert.Null(waiter.TryAcquire("y"));

        var text = waiter.LastHolder!.Describe();
        Assert.StartsWith("an unknown holder", text);
        Assert.Contains("agent-7 process 4242", text); // still said, as what it is: a leftover
        Assert.Contains("older than the lock", text);
    }

    [Fact]
    public void A_lock_whose_owner_record_is_current_names_its_holder()
    {
        using var held = new LockService(new LockSettings()).StartWaiting(Target, "test").TryAcquire("install x@1.0.0")!;
        var waiter = new LockService(new LockSettings()).StartWaiting(Target, "test");

        Assert.Null(waiter.TryAcquire("y"));

        Assert.StartsWith($"{Environment.MachineName} process {Environment.ProcessId} (install x@1.0.0)", waiter.LastHolder!.Describe());
    }
}
