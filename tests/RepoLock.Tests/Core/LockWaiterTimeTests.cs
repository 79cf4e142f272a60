using Microsoft.Extensions.Time.Testing;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

/// <summary>
/// The waiter's timing rules on a fake clock (<see cref="FakeTimeProvider"/>): reports, the timeout, the "watched unchanged for the
/// stale age" rule, and that the waiter's own clock never decides a break. Locks are real directories; only the waiter's time is fake,
/// so each test runs in milliseconds instead of the minutes it describes.
/// </summary>
public class LockWaiterTimeTests : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly TempDir _dir = new("time");
    private readonly CollectingLog _log = new();

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "@openfn", "language-http_7.2.10.lock");

    private LockService Service(FakeTimeProvider time, TimeSpan staleAge, TimeSpan timeout, Func<string, DateTime?>? serverClock = null) =>
        new(new LockSettings { StaleAge = staleAge, Timeout = timeout, PollInterval = Poll, ReportInterval = TimeSpan.FromSeconds(5) }, time: time, log: _log)
        {
            ServerClock = serverClock ?? ServerClock.Probe,
        };

    /// <summary>A lock held by a foreign holder (no owner record, as a Node worker's), stamped <paramref name="mtime"/>.</summary>
    private string ForeignLock(DateTime mtime)
    {
        var lockDir = LockService.LockDirFor(Target);
        Directory.CreateDirectory(lockDir);
        Directory.SetLastWriteTimeUtc(lockDir, mtime);
        return lockDir;
    }

    /// <summary>Polls as a waiter does, the fake clock moving through each pause, until the lock is taken or the wait throws.</summary>
    private static async Task<(LockHandle? Handle, TimeSpan Waited)> WaitAsync(LockWaiter waiter, FakeTimeProvider time, TimeSpan limit)
    {
        var start = time.GetTimestamp();
        while (time.GetElapsedTime(start) <= limit)
        {
            if (waiter.TryAcquire("test") is { } handle)
            {
                return (handle, time.GetElapsedTime(start));
            }

            await waiter.PauseAsync(time);
        }

        return (null, time.GetElapsedTime(start));
    }

    [Fact]
    public async Task A_live_holder_is_reported_every_five_seconds_and_the_wait_ends_with_RL2001_at_the_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        ForeignLock(DateTime.UtcNow); // fresh by the file server's clock, and the stale age is far away
        var waiter = Service(time, staleAge: TimeSpan.FromSeconds(300), timeout: TimeSpan.FromSeconds(60)).StartWaiting(Target, "@openfn/language-http@7.2.10");

        var e = await Assert.ThrowsAsync<RepoLockException>(() => WaitAsync(waiter, time, TimeSpan.FromMinutes(10)));

        Assert.Equal(ErrorCodes.LockTimeout, e.Code);
        Assert.Contains("60 s", e.Message);
        var reports = _log.Infos.Where(l => l.Contains("RepoLock: waiting", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, reports.Count); // at 5, 10, ... 60 s
        Assert.All(reports, r => Assert.Contains("an unknown holder", r));
    }

    [Fact]
    public async Task A_lock_whose_mtime_lies_in_the_future_is_broken_once_watched_unchanged_for_the_stale_age_and_not_before()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lockDir = ForeignLock(DateTime.UtcNow.AddHours(1)); // a holder whose clock runs an hour ahead, then died
        var waiter = Service(time, staleAge: TimeSpan.FromSeconds(30), timeout: TimeSpan.FromMinutes(5)).StartWaiting(Target, "x");

        var (early, _) = await WaitAsync(waiter, time, TimeSpan.FromSeconds(29));
        Assert.Null(early);
        Assert.True(Directory.Exists(lockDir));

        var (handle, waited) = await WaitAsync(waiter, time, TimeSpan.FromSeconds(10));
        using (handle)
        {
            Assert.NotNull(handle);
            Assert.InRange(waited, TimeSpan.Zero, TimeSpan.FromSeconds(3));
            Assert.Contains(_log.Infos, l => l.Contains("has not changed for 30 s while we waited", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public async Task The_waiters_own_clock_a_day_off_never_decides_a_break(int days)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(days));
        var fresh = ForeignLock(DateTime.UtcNow);
        var waiter = Service(time, staleAge: TimeSpan.FromSeconds(300), timeout: TimeSpan.FromMinutes(10)).StartWaiting(Target, "x");

        var (handle, _) = await WaitAsync(waiter, time, TimeSpan.FromSeconds(20));

        Assert.Null(handle); // fresh by the file server's clock, whatever the local clock says
        Assert.True(Directory.Exists(fresh));
        Assert.DoesNotContain(_log.Infos, l => l.Contains("took over", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void A_lock_older_than_the_stale_age_by_the_file_servers_clock_is_broken_at_once_whatever_the_local_clock(int days)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(days));
        ForeignLock(DateTime.UtcNow - TimeSpan.FromSeconds(400));
        var waiter = Service(time, staleAge: TimeSpan.FromSeconds(300), timeout: TimeSpan.FromMinutes(10)).StartWaiting(Target, "x");

        using var handle = waiter.TryAcquire("test");

        Assert.NotNull(handle);
        Assert.Contains(_log.Infos, l => l.Contains("by the file server's clock, more than the stale age of 300 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Between_probes_the_server_clock_is_estimated_but_a_break_is_only_decided_on_a_fresh_probe()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var probes = 0;
        var serverNow = DateTime.UtcNow;
        DateTime? Probe(string _)
        {
            probes++;
            return serverNow;
        }

        var lockDir = ForeignLock(DateTime.UtcNow);
        var waiter = Service(time, staleAge: TimeSpan.FromSeconds(300), timeout: TimeSpan.FromMinutes(10), Probe).StartWaiting(Target, "x");

        var (none, _) = await WaitAsync(waiter, time, TimeSpan.FromSeconds(119));
        Assert.Null(none);
        Assert.InRange(probes, 2, 3); // one probe a minute of waiting, not one per poll or per observation

        // The server's clock jumps past the stale age (the estimate, the last probe + monotonic time since, cannot know): the next
        // observation after a minute probes afresh and sees it.
        serverNow += TimeSpan.FromSeconds(301);
        var before = probes;
        time.Advance(StaleWatch.ReprobeEvery);
        using var handle = waiter.TryAcquire("test");
        Assert.NotNull(handle);
        Assert.True(probes > before);
        Assert.False(Directory.Exists(lockDir) && LockOwnerRecord.TryRead(lockDir) is null);
    }
}
