using Microsoft.Extensions.Time.Testing;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

/// <summary>
/// The lease rule on a fake clock: a RepoLock holder on another host renews its owner record every 2 s; a waiter that watches the record
/// and the lock directory stay exactly the same for the declared grace (15 s) on its own monotonic clock judges the holder dead. Locks and
/// records are real files; only the waiter's time is fake, and the file server's clock (the probe) is the real one, so the 300 s stale age
/// never decides here.
/// </summary>
public sealed class LeaseTests : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);
    private readonly TempDir _dir = new("lease");
    private readonly CollectingLog _log = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "@openfn", "language-http_7.2.10.lock");

    private LockWaiter Waiter() =>
        new LockService(new LockSettings { StaleAge = TimeSpan.FromSeconds(300), Timeout = TimeSpan.FromHours(1), PollInterval = Poll }, time: _time, log: _log)
        {
            ServerClock = _ => DateTime.UtcNow,
        }.StartWaiting(Target, "@openfn/language-http@7.2.10");

    /// <summary>A lock held by a RepoLock holder on another host: the directory and a record that describes it, with a 2 s / 15 s lease.</summary>
    private LockOwnerRecord PlantForeignHolder(Func<DateTime, LockOwnerRecord, LockOwnerRecord>? adjust = null)
    {
        var lockDir = LockService.LockDirFor(Target);
        Directory.CreateDirectory(lockDir);
        var mtime = Directory.GetLastWriteTimeUtc(lockDir);
        var record = new LockOwnerRecord
        {
            Host = "agent-7", MachineId = "another-boot/pid:[4026532000]", ProcessId = 1, ProcessStart = "42", Purpose = "install x@1.0.0",
            AcquiredAt = DateTimeOffset.UtcNow, HeartbeatIntervalMs = 10_000, LastHeartbeatTicks = mtime.Ticks, Nonce = "n1", LeaseCounter = 7,
            LeaseIntervalMs = 2_000, LeaseGraceMs = (int)Grace.TotalMilliseconds,
        };
        record = adjust?.Invoke(mtime, record) ?? record;
        record.Write(lockDir);
        return record;
    }

    /// <summary>Polls as a waiter does for <paramref name="span"/> of fake time; <paramref name="holder"/> plays the holder every 100 ms.</summary>
    private async Task<LockHandle?> WatchAsync(LockWaiter waiter, TimeSpan span, Action? holder = null)
    {
        var start = _time.GetTimestamp();
        while (_time.GetElapsedTime(start) < span)
        {
            if (waiter.TryAcquire("test") is { } handle)
            {
                return handle;
            }

            await waiter.PauseAsync(_time, holder);
        }

        return null;
    }

    [Fact]
    public async Task A_lease_left_unrenewed_for_its_grace_is_taken_over_and_not_a_poll_before()
    {
        PlantForeignHolder();
        var waiter = Waiter();

        Assert.Null(await WatchAsync(waiter, Grace - Poll));
        using var handle = await WatchAsync(waiter, TimeSpan.FromSeconds(3));

        Assert.NotNull(handle);
        Assert.Contains(_log.Infos, l => l.Contains("agent-7 process 1, has not renewed its lease for 15 s", StringComparison.Ordinal));
        Assert.Equal(Environment.ProcessId, LockOwnerRecord.TryRead(handle!.LockDir)!.ProcessId);
    }

    [Fact]
    public async Task A_lease_renewed_every_two_seconds_is_never_taken_over()
    {
        var record = PlantForeignHolder();
        var lockDir = LockService.LockDirFor(Target);
        var renewedAt = _time.GetTimestamp();
        void Renew()
        {
            if (_time.GetElapsedTime(renewedAt) >= TimeSpan.FromSeconds(2))
            {
                renewedAt = _time.GetTimestamp();
                record = record with { LeaseCounter = record.LeaseCounter + 1 };
                record.Write(lockDir);
            }
        }

        var handle = await WatchAsync(Waiter(), TimeSpan.FromSeconds(120), Renew);

        Assert.Null(handle);
        Assert.Equal(record.LeaseCounter, LockOwnerRecord.TryRead(lockDir)!.LeaseCounter);
        Assert.DoesNotContain(_log.Infos, l => l.Contains("took over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_lock_directory_in_place_of_the_watched_one_restarts_the_grace_even_with_the_same_mtime_and_record()
    {
        PlantForeignHolder();
        var lockDir = LockService.LockDirFor(Target);
        var mtime = Directory.GetLastWriteTimeUtc(lockDir);
        var waiter = Waiter();
        Assert.Null(await WatchAsync(waiter, TimeSpan.FromSeconds(10)));

        // Another directory (made while the old one exists, so it has another inode) with the very same mtime; the record is untouched.
        var replacement = lockDir + ".new";
        Directory.CreateDirectory(replacement);
        var before = NativeFs.Stat(lockDir)!.Value;
        Directory.Delete(lockDir);
        Directory.Move(replacement, lockDir);
        Directory.SetLastWriteTimeUtc(lockDir, mtime);
        Assert.False(NativeFs.Stat(lockDir)!.Value.SameDirectory(before));

        Assert.Null(await WatchAsync(waiter, TimeSpan.FromSeconds(10))); // 20 s since the first sight, 10 s since the new directory
        using var handle = await WatchAsync(waiter, TimeSpan.FromSeconds(8));
        Assert.NotNull(handle);
    }

    [Fact]
    public async Task A_leftover_record_beside_a_lock_made_since_does_not_lend_it_a_lease()
    {
        // A RepoLock holder died; a Node worker broke its lock after the stale age and holds it now. The record stays, unchanged.
        PlantForeignHolder((mtime, r) => r with { LastHeartbeatTicks = (mtime - TimeSpan.FromMinutes(6)).Ticks });

        Assert.Null(await WatchAsync(Waiter(), TimeSpan.FromSeconds(60)));
        Assert.True(Directory.Exists(LockService.LockDirFor(Target)));
    }

    [Fact]
    public async Task A_holder_killed_between_touching_the_lock_and_rewriting_its_record_is_still_judged_by_its_lease()
    {
        // It wrote "touching" with the old mtime, refreshed the lock (now 10 s newer), and died before writing the new mtime.
        PlantForeignHolder((mtime, r) => r with { LastHeartbeatTicks = (mtime - TimeSpan.FromSeconds(10)).Ticks, Touching = true });

        using var handle = await WatchAsync(Waiter(), Grace + TimeSpan.FromSeconds(3));

        Assert.NotNull(handle);
        Assert.Contains(_log.Infos, l => l.Contains("has not renewed its lease", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_record_whose_mtime_lags_the_lock_without_the_touching_mark_is_not_trusted()
    {
        PlantForeignHolder((mtime, r) => r with { LastHeartbeatTicks = (mtime - TimeSpan.FromSeconds(10)).Ticks, Touching = false });

        Assert.Null(await WatchAsync(Waiter(), TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public void A_holder_whose_process_is_gone_is_taken_over_at_once_even_if_it_died_while_touching()
    {
        var self = MachineIdentity.Current;
        using var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        var start = MachineIdentity.ProcessStartOf(gone.Id) ?? "gone";
        gone.WaitForExit();
        PlantForeignHolder((mtime, r) => r with
        {
            MachineId = self.MachineId, Host = self.Host, ProcessId = gone.Id, ProcessStart = start,
        });
        Directory.SetLastWriteTimeUtc(LockService.LockDirFor(Target), DateTime.UtcNow.AddSeconds(-2)); // past the 1 s minimum age
        PlantTouching(TimeSpan.FromSeconds(10));

        using var handle = Waiter().TryAcquire("test");

        Assert.NotNull(handle);
        Assert.Contains(_log.Infos, l => l.Contains("is no longer running", StringComparison.Ordinal));
    }

    /// <summary>Rewrites the record so that its last heartbeat lags the lock's current mtime by <paramref name="lag"/>, marked touching.</summary>
    private void PlantTouching(TimeSpan lag)
    {
        var lockDir = LockService.LockDirFor(Target);
        var record = LockOwnerRecord.TryRead(lockDir)!;
        (record with { LastHeartbeatTicks = (Directory.GetLastWriteTimeUtc(lockDir) - lag).Ticks, Touching = true }).Write(lockDir);
    }

    [Fact]
    public void A_holder_paused_past_its_fence_counts_its_lock_as_lost_and_stops_before_changing_anything()
    {
        var paused = new PausedTimers(_time);
        var service = new LockService(new LockSettings(), time: paused, log: _log);
        var handle = service.StartWaiting(Target, "x").TryAcquire("install x@1.0.0")!;
        var settings = new LockSettings();

        _time.Advance(settings.LeaseFence - TimeSpan.FromSeconds(1));
        handle.ThrowIfLost("x@1.0.0"); // renewed in time: still held
        _time.Advance(settings.LeaseFence + TimeSpan.FromSeconds(1)); // then SIGSTOPped: no renewal for longer than the fence

        var e = Assert.Throws<RepoLockException>(() => handle.ThrowIfLost("x@1.0.0"));
        Assert.Equal(ErrorCodes.LockLost, e.Code);
        Assert.Contains("could not renew its lease", e.Message);
        handle.Dispose();
        Assert.False(Directory.Exists(handle.LockDir)); // nobody took it meanwhile: it is still released, not left to go stale
    }

    /// <summary>A process that is stopped runs no timers: fake time whose timers never fire.</summary>
    private sealed class PausedTimers(FakeTimeProvider inner) : TimeProvider
    {
        public override long TimestampFrequency => inner.TimestampFrequency;

        public override long GetTimestamp() => inner.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }
}
