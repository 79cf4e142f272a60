using Microsoft.Extensions.Time.Testing;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

/// <summary>
/// A waiting build is quiet on the file server: hundreds of agents may wait on one export. With the production settings on a fake clock, a
/// waiter on a live holder on another machine asks the server at most three system calls a second (counted through the
/// <see cref="ILockFileSystem"/> seam and the server-clock probe), asks "did the peer finish?" only when the lock changed hands, still takes
/// over a dead holder within its lease's grace plus one observation, and is woken at once by a release on this machine.
/// </summary>
public sealed class QuietWaitingTests : IDisposable
{
    private static readonly TimeSpan Grace = LockSettings.DefaultLeaseGrace;
    private readonly TempDir _dir = new("quiet");
    private readonly CollectingLog _log = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly CountingFileSystem _fs = new();
    private int _probes;

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "@openfn", "language-http_7.2.10.lock");

    private string LockDir => LockService.LockDirFor(Target);

    /// <summary>A waiter with the production settings, on the fake clock; <paramref name="notifications"/> false plays a waiter on another machine.</summary>
    private LockWaiter Waiter(bool notifications = false) =>
        new LockService(new LockSettings { Notifications = notifications }, time: _time, log: _log)
        {
            FileSystem = _fs,
            ServerClock = _ =>
            {
                _probes++;
                return DateTime.UtcNow;
            },
        }.StartWaiting(Target, "@openfn/language-http@7.2.10");

    /// <summary>A RepoLock holder on another machine: the lock directory and a record with a 2 s / 15 s lease; <see cref="Renew"/> renews it.</summary>
    private LockOwnerRecord PlantForeignHolder(string nonce = "n1")
    {
        Directory.CreateDirectory(LockDir);
        var record = new LockOwnerRecord
        {
            Host = "agent-7", MachineId = "another-boot/pid:[4026532000]", ProcessId = 1, ProcessStart = "42", Purpose = "install x@1.0.0",
            AcquiredAt = DateTimeOffset.UtcNow, HeartbeatIntervalMs = 10_000, LastHeartbeatTicks = Directory.GetLastWriteTimeUtc(LockDir).Ticks,
            Nonce = nonce, LeaseCounter = 1, LeaseIntervalMs = 2_000, LeaseGraceMs = (int)Grace.TotalMilliseconds,
        };
        record.Write(LockDir);
        return record;
    }

    /// <summary>Plays the holder's lease: rewrites its record every 2 s of fake time while <paramref name="until"/> says so.</summary>
    private Action Renewals(LockOwnerRecord record, Func<bool>? until = null)
    {
        var renewedAt = _time.GetTimestamp();
        return () =>
        {
            if (_time.GetElapsedTime(renewedAt) >= TimeSpan.FromSeconds(2) && (until?.Invoke() ?? true))
            {
                renewedAt = _time.GetTimestamp();
                record = record with { LeaseCounter = record.LeaseCounter + 1 };
                record.Write(LockDir);
            }
        };
    }

    /// <summary>Waits as a build does (attempt, pause) for <paramref name="span"/> of fake time, or until the lock is taken.</summary>
    private async Task<LockHandle?> WaitAsync(LockWaiter waiter, TimeSpan span, Action? holder = null, Action? eachAttempt = null)
    {
        var start = _time.GetTimestamp();
        while (_time.GetElapsedTime(start) < span)
        {
            eachAttempt?.Invoke();
            if (waiter.TryAcquire("test") is { } handle)
            {
                return handle;
            }

            await waiter.PauseAsync(_time, holder);
        }

        return null;
    }

    [Fact]
    public async Task A_build_waiting_for_a_live_holder_on_another_machine_makes_at_most_three_system_calls_a_second()
    {
        var renew = Renewals(PlantForeignHolder());
        using var waiter = Waiter();
        Assert.Null(await WaitAsync(waiter, TimeSpan.FromSeconds(10), renew)); // the first seconds poll soon: not the steady state
        _fs.Reset();
        _probes = 0;
        var measured = TimeSpan.FromSeconds(120);

        Assert.Null(await WaitAsync(waiter, measured, renew));

        // System calls each operation makes (strace): mkdir 1; statx 1; the owner record open, read, close 3; the server-clock probe
        // create, two flocks, close, statx, unlink 6.
        var calls = _fs.Mkdirs + _fs.Stats + (3 * _fs.RecordReads) + (6 * _probes);
        var perSecond = calls / measured.TotalSeconds;
        Assert.True(perSecond <= 3, $"{perSecond:0.00} calls/s: {_fs.Mkdirs} mkdir, {_fs.Stats} stat, {_fs.RecordReads} record reads, {_probes} probes in {measured.TotalSeconds} s");
        Assert.InRange(_fs.Mkdirs, measured.TotalSeconds / 2.1, measured.TotalSeconds / 1.2); // it still tries every 1.5-2 s
        Assert.DoesNotContain(_log.Infos, l => l.Contains("took over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_waiter_tries_soon_at_first_and_less_often_the_longer_the_hold()
    {
        var renew = Renewals(PlantForeignHolder());
        using var waiter = Waiter();

        Assert.Null(await WaitAsync(waiter, TimeSpan.FromSeconds(1), renew));
        var firstSecond = _fs.Mkdirs;
        _fs.Reset();
        Assert.Null(await WaitAsync(waiter, TimeSpan.FromSeconds(30), renew));

        Assert.InRange(firstSecond, 3, 6); // 200, 300, 450 ms...: a short hold (the manifest, a peer that finds it installed) costs little time
        Assert.InRange(_fs.Mkdirs / 30.0, 0.4, 0.8); // then every 1.5-2 s
    }

    [Theory]
    [InlineData(0)]
    [InlineData(700)]
    [InlineData(1400)]
    [InlineData(2100)]
    [InlineData(2900)]
    public async Task A_holder_on_another_machine_that_stops_renewing_is_taken_over_after_its_grace_and_within_twenty_seconds(int offsetMs)
    {
        var renewing = true;
        var renew = Renewals(PlantForeignHolder(), () => renewing);
        using var waiter = Waiter();
        Assert.Null(await WaitAsync(waiter, TimeSpan.FromSeconds(20) + TimeSpan.FromMilliseconds(offsetMs), renew)); // alive: never taken
        var lastRenewal = LockOwnerRecord.TryRead(LockDir)!.LeaseCounter;
        var stoppedAt = _time.GetTimestamp(); // the holder dies (its last renewal was at most 2 s before)
        renewing = false;

        using var handle = await WaitAsync(waiter, TimeSpan.FromSeconds(30), renew);

        Assert.NotNull(handle);
        var takeover = _time.GetElapsedTime(stoppedAt);
        Assert.InRange(takeover, Grace - TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20) - FakeTimePauses.Step);
        Assert.True(lastRenewal > 5);
        Assert.Contains(_log.Infos, l => l.Contains("has not renewed its lease for 15 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_peer_is_asked_about_only_at_the_start_when_the_lock_changes_hands_and_every_half_minute()
    {
        var renew = Renewals(PlantForeignHolder());
        using var waiter = Waiter();
        Assert.True(waiter.ShouldCheckPeer()); // at the start
        var asked = 0;

        Assert.Null(await WaitAsync(waiter, TimeSpan.FromSeconds(25), renew, () => asked += waiter.ShouldCheckPeer() ? 1 : 0));
        Assert.Equal(0, asked); // the same holder renewing: nothing to ask

        Directory.Delete(LockDir); // released, and taken by another holder before this waiter tried again
        LockOwnerRecord.Delete(LockDir);
        var renewNew = Renewals(PlantForeignHolder("n2"));
        Assert.Null(await WaitAsync(waiter, LockSettings.DefaultObserveInterval + LockSettings.DefaultMaxPollInterval, renewNew, () => asked += waiter.ShouldCheckPeer() ? 1 : 0));
        Assert.Equal(1, asked);

        Assert.Null(await WaitAsync(waiter, LockWaiter.PeerCheckEvery + TimeSpan.FromSeconds(3), renewNew, () => asked += waiter.ShouldCheckPeer() ? 1 : 0));
        Assert.Equal(2, asked); // nothing changed for half a minute: asked once more all the same
    }

    [Fact]
    public async Task A_release_on_this_machine_wakes_the_waiter_without_waiting_for_its_next_try()
    {
        var holderService = new LockService(new LockSettings(), log: _log);
        var held = holderService.StartWaiting(Target, "holder").TryAcquire("hold")!;
        using var waiter = Waiter(notifications: true);
        Assert.Null(waiter.TryAcquire("test"));
        var pause = waiter.PauseAsync(CancellationToken.None); // the fake clock does not move: only a notification can end this pause

        held.Dispose();
        var woken = await Task.WhenAny(pause, Task.Delay(TimeSpan.FromSeconds(10))) == pause;

        Assert.True(woken, "the release did not wake the waiter");
        Assert.True(waiter.ShouldCheckPeer());
        using var handle = waiter.TryAcquire("test");
        Assert.NotNull(handle);
    }

    /// <summary>The real file system, counting what a waiter asks of it.</summary>
    private sealed class CountingFileSystem : ILockFileSystem
    {
        public int Mkdirs { get; private set; }

        public int Stats { get; private set; }

        public int RecordReads { get; private set; }

        public void Reset() => Mkdirs = Stats = RecordReads = 0;

        public DateTime? GetMtimeUtc(string path) => NativeFs.GetMtimeUtc(path);

        public bool Touch(string path) => NativeFs.Touch(path);

        public DirStamp? Stat(string path)
        {
            Stats++;
            return NativeFs.Stat(path);
        }

        public bool TryCreateDirectory(string path)
        {
            Mkdirs++;
            return NativeFs.TryCreateDirectory(path);
        }

        public string? ReadOwnerRecord(string lockDir)
        {
            RecordReads++;
            return SmallFile.TryReadText(LockOwnerRecord.PathFor(lockDir), LockOwnerRecord.MaxBytes);
        }
    }
}
