using System.Diagnostics;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

public class LockServiceTests : IDisposable
{
    private readonly TempDir _dir = new("lock");
    private readonly CollectingLog _log = new();

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "@openfn", "language-http_7.2.10.lock");

    private LockService Service(LockSettings? settings = null, MachineIdentity? self = null) =>
        new(settings ?? new LockSettings { PollInterval = TimeSpan.FromMilliseconds(10) }, self, log: _log);

    private LockHandle? TryOnce(LockService service, string purpose = "test") => service.StartWaiting(Target, "test").TryAcquire(purpose);

    [Fact]
    public void Acquire_makes_the_proper_lockfile_directory_and_an_owner_record_beside_it()
    {
        using var held = TryOnce(Service(), "install x");

        Assert.NotNull(held);
        Assert.Equal(Target + ".lock", held!.LockDir);
        Assert.True(Directory.Exists(Target + ".lock"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(held.LockDir)); // proper-lockfile removes it with rmdir
        var record = LockOwnerRecord.TryRead(held.LockDir)!;
        Assert.Equal(Environment.ProcessId, record.ProcessId);
        Assert.Equal(MachineIdentity.Current.MachineId, record.MachineId);
        Assert.Equal("install x", record.Purpose);
        Assert.Equal(Directory.GetLastWriteTimeUtc(held.LockDir).Ticks, record.LastHeartbeatTicks);
    }

    [Fact]
    public void Release_removes_record_and_lock_directory()
    {
        var held = TryOnce(Service())!;

        held.Dispose();

        Assert.False(Directory.Exists(held.LockDir));
        Assert.False(File.Exists(LockOwnerRecord.PathFor(held.LockDir)));
        Assert.True(File.Exists(Target)); // the target file stays, as with proper-lockfile
    }

    [Fact]
    public void A_held_lock_is_not_taken_and_the_waiter_learns_who_holds_it()
    {
        using var held = TryOnce(Service(), "install @openfn/language-http@7.2.10")!;
        var waiter = Service().StartWaiting(Target, "test");

        var second = waiter.TryAcquire("other");

        Assert.Null(second);
        Assert.Contains($"process {Environment.ProcessId}", waiter.LastHolder!.Describe());
        Assert.Contains("install @openfn/language-http@7.2.10", waiter.LastHolder.Describe());
    }

    [Fact]
    public async Task Heartbeat_refreshes_the_mtime_and_the_record()
    {
        using var held = Service(new LockSettings { Heartbeat = TimeSpan.FromMilliseconds(30) }).StartWaiting(Target, "t").TryAcquire("t")!;
        var first = LockOwnerRecord.TryRead(held.LockDir)!.LastHeartbeatTicks;

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (LockOwnerRecord.TryRead(held.LockDir)?.LastHeartbeatTicks is not { } t || t == first)
        {
            Assert.True(DateTime.UtcNow < deadline, "no heartbeat within 10 s");
            await Task.Delay(10);
        }

        var record = LockOwnerRecord.TryRead(held.LockDir)!;
        Assert.True(record.LastHeartbeatTicks > first);
        Assert.False(held.IsLost);
    }

    [Fact]
    public void A_lock_older_than_the_stale_age_is_taken_over()
    {
        Directory.CreateDirectory(Target + ".lock"); // a Node worker's lock: no owner record
        File.WriteAllText(Target, "");
        Directory.SetLastWriteTimeUtc(Target + ".lock", DateTime.UtcNow.AddMinutes(-10));

        using var held = TryOnce(Service());

        Assert.NotNull(held);
        Assert.Contains("stale age", _log.Text);
    }

    [Fact]
    public void A_fresh_lock_without_a_record_is_not_taken()
    {
        Directory.CreateDirectory(Target + ".lock");
        File.WriteAllText(Target, "");

        Assert.Null(TryOnce(Service()));
        Assert.True(Directory.Exists(Target + ".lock"));
    }

    [Fact]
    public void A_dead_holder_on_this_machine_is_taken_over_at_once()
    {
        PlantLock(DeadProcessRecord(), age: TimeSpan.FromSeconds(5));

        using var held = TryOnce(Service());

        Assert.NotNull(held);
        Assert.Contains("no longer running", _log.Text);
    }

    [Fact]
    public void A_lock_as_new_as_a_timestamp_tick_is_not_taken_even_if_it_matches_a_dead_holders_record()
    {
        // A holder released and exited; a peer took the lock in the same mtime tick as the dead holder's last heartbeat (ext4 ticks are
        // milliseconds): record and mtime match, the process is gone, yet the lock is the peer's and must stand.
        PlantLock(DeadProcessRecord(), age: TimeSpan.Zero);

        Assert.Null(TryOnce(Service()));
        Assert.True(Directory.Exists(Target + ".lock"));
    }

    [Fact]
    public void A_dead_holder_whose_record_describes_an_older_lock_is_not_taken()
    {
        var lockDir = PlantLock(DeadProcessRecord(), age: TimeSpan.FromSeconds(5));
        Directory.SetLastWriteTimeUtc(lockDir, DateTime.UtcNow.AddSeconds(-3)); // a new lock incarnation: mtime differs from the record

        Assert.Null(TryOnce(Service()));
    }

    [Fact]
    public void A_dead_holder_on_another_machine_is_not_taken_before_the_stale_age()
    {
        // Past the minimum age that any fast takeover needs: only the machine check keeps this lock, until the stale age.
        PlantLock(DeadProcessRecord() with { MachineId = "another-boot/pid:[1]", Host = "agent-7" }, age: TimeSpan.FromSeconds(5));
        var waiter = Service().StartWaiting(Target, "test");

        Assert.Null(waiter.TryAcquire("x"));
        Assert.Contains("agent-7", waiter.LastHolder!.Describe());
    }

    [Fact]
    public void A_live_holder_on_this_machine_is_not_taken()
    {
        var self = MachineIdentity.Current;
        PlantLock(DeadProcessRecord() with { ProcessId = self.ProcessId, ProcessStart = self.ProcessStart }, age: TimeSpan.FromSeconds(5));

        Assert.Null(TryOnce(Service()));
    }

    [Fact]
    public void Fast_recovery_can_be_switched_off()
    {
        PlantLock(DeadProcessRecord(), age: TimeSpan.FromSeconds(5));

        Assert.Null(TryOnce(Service(new LockSettings { FastRecovery = false })));
    }

    [Fact]
    public void A_holder_whose_lock_was_removed_notices_and_stops_with_RL2002()
    {
        using var held = TryOnce(Service())!;
        Directory.Delete(held.LockDir);

        var e = Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x@1.0.0"));

        Assert.Equal(ErrorCodes.LockLost, e.Code);
        Assert.True(held.IsLost);
    }

    [Fact]
    public void A_holder_whose_lock_was_taken_over_notices_and_leaves_the_new_lock_alone()
    {
        var held = TryOnce(Service())!;
        Directory.SetLastWriteTimeUtc(held.LockDir, DateTime.UtcNow.AddMinutes(-20)); // someone else's incarnation now

        Assert.Equal(ErrorCodes.LockLost, Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x")).Code);
        held.Dispose();

        Assert.True(Directory.Exists(held.LockDir));
    }

    [Fact]
    public async Task Waiting_past_the_timeout_is_RL2001_naming_the_lock_and_holder()
    {
        using var held = TryOnce(Service(), "install x@1.0.0")!;
        var service = Service(new LockSettings { Timeout = TimeSpan.FromMilliseconds(300), PollInterval = TimeSpan.FromMilliseconds(20) });

        var e = await Assert.ThrowsAsync<RepoLockException>(() => service.AcquireAsync(Target, "y", "x@1.0.0", default));

        Assert.Equal(ErrorCodes.LockTimeout, e.Code);
        Assert.Contains(held.LockDir, e.Message);
        Assert.Contains($"process {Environment.ProcessId}", e.Message);
    }

    [Fact]
    public async Task A_waiter_reports_the_holder_every_few_seconds()
    {
        using var held = TryOnce(Service(), "install x@1.0.0")!;
        var service = Service(new LockSettings { Timeout = TimeSpan.FromMinutes(2), PollInterval = TimeSpan.FromMilliseconds(20), ReportInterval = TimeSpan.FromMilliseconds(100) });
        using var stop = new CancellationTokenSource();
        List<string> Reports() => _log.Lines.Where(l => l.StartsWith("info: RepoLock: waiting", StringComparison.Ordinal)).ToList();

        var waiting = service.AcquireAsync(Target, "y", "x@1.0.0", stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Reports().Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, _log.Text);
            Assert.False(waiting.IsCompleted, "the waiter stopped waiting");
            await Task.Delay(20);
        }

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.All(Reports(), r => Assert.Contains(held.LockDir, r));
        Assert.All(Reports(), r => Assert.Contains($"process {Environment.ProcessId}", r));
    }

    [Fact]
    public async Task A_waiter_proceeds_when_the_holder_releases()
    {
        var held = TryOnce(Service())!;
        var waiting = Service().AcquireAsync(Target, "y", "x", default);
        Assert.False(waiting.IsCompleted);

        held.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(Directory.Exists(second.LockDir));
    }

    private LockOwnerRecord DeadProcessRecord()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        var start = MachineIdentity.ProcessStartOf(p.Id) ?? "gone";
        p.WaitForExit();
        return new LockOwnerRecord
        {
            Host = Environment.MachineName,
            MachineId = MachineIdentity.Current.MachineId,
            ProcessId = p.Id,
            ProcessStart = start,
            Purpose = "install x",
            AcquiredAt = DateTimeOffset.UtcNow,
            HeartbeatIntervalMs = 10_000,
        };
    }

    /// <summary>A lock as a killed holder leaves it: directory, and a record whose heartbeat is the directory's mtime.</summary>
    private string PlantLock(LockOwnerRecord record, TimeSpan? age = null)
    {
        var lockDir = LockService.LockDirFor(Target);
        Directory.CreateDirectory(lockDir);
        if (age is { } a && a > TimeSpan.Zero)
        {
            Directory.SetLastWriteTimeUtc(lockDir, DateTime.UtcNow - a);
        }

        var mtime = Directory.GetLastWriteTimeUtc(lockDir);
        (record with { LastHeartbeatTicks = mtime.Ticks }).Write(lockDir);
        return lockDir;
    }
}
