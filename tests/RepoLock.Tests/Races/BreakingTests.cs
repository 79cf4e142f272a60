using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Races;

/// <summary>
/// Breaking a dead lock acts only on the lock instance judged dead. Breakers that race each other, and a process that makes a new lock in
/// the middle of a break, never end with a replaced lock or two holders that both pass their lost-lock check.
/// </summary>
public sealed class BreakingTests : IDisposable
{
    private readonly TempDir _dir = new("break");
    private readonly CollectingLog _log = new();

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "adaptor.lock");

    /// <summary>A Node worker's lock (no record) last refreshed ten minutes ago: dead by the stale age.</summary>
    private string PlantDeadLock()
    {
        var lockDir = LockService.LockDirFor(Target);
        Directory.CreateDirectory(lockDir);
        Directory.SetLastWriteTimeUtc(lockDir, DateTime.UtcNow.AddMinutes(-10));
        return lockDir;
    }

    private static DirStamp StampOf(string dir) => NativeFs.Stat(dir)!.Value;

    [Fact]
    public void A_lock_made_again_since_the_judgement_is_not_touched()
    {
        var lockDir = PlantDeadLock();
        var judged = StampOf(lockDir);
        Directory.Delete(lockDir);
        Directory.CreateDirectory(lockDir); // a new holder's lock, perhaps on the same inode, with a fresh mtime
        var fresh = StampOf(lockDir);

        Assert.False(StaleLock.TryBreak(lockDir, judged, null, _log));

        Assert.Equal(fresh, StampOf(lockDir));
        Assert.Empty(Debris());
    }

    [Fact]
    public void A_lock_renewed_since_the_judgement_is_not_touched()
    {
        var lockDir = PlantDeadLock();
        var record = new LockOwnerRecord { Host = "agent-7", Nonce = "n", LeaseCounter = 1 };
        record.Write(lockDir);
        LockOwnerRecord.TryRead(lockDir, out var judgedText);
        (record with { LeaseCounter = 2 }).Write(lockDir);

        Assert.False(StaleLock.TryBreak(lockDir, StampOf(lockDir), judgedText, _log));
        Assert.True(Directory.Exists(lockDir));
    }

    [Fact]
    public void A_new_lock_made_between_the_check_and_the_rename_is_put_back_untouched()
    {
        var lockDir = PlantDeadLock();
        var judged = StampOf(lockDir);
        DirStamp? replaced = null;

        var broke = StaleLock.TryBreak(lockDir, judged, null, _log, step =>
        {
            if (step == "checked")
            {
                Directory.Delete(lockDir); // another breaker broke it, and a new holder made its lock
                Directory.CreateDirectory(lockDir);
                replaced = StampOf(lockDir);
            }
        });

        Assert.False(broke);
        Assert.Equal(replaced, StampOf(lockDir)); // the same directory, inode and mtime: put back, not recreated
        Assert.Contains("put back untouched", _log.Text);
        Assert.Empty(Debris());
    }

    [Fact]
    public void A_lock_that_could_not_be_put_back_never_replaces_the_one_standing_there_now()
    {
        var lockDir = PlantDeadLock();
        var judged = StampOf(lockDir);
        DirStamp? newest = null;

        var broke = StaleLock.TryBreak(lockDir, judged, null, _log, step =>
        {
            if (step == "checked")
            {
                Directory.Delete(lockDir);
                Directory.CreateDirectory(lockDir); // the lock we are about to move by mistake
            }
            else if (step == "moved")
            {
                Directory.CreateDirectory(lockDir); // and yet another process made a lock in its place
                newest = StampOf(lockDir);
            }
        });

        Assert.False(broke);
        Assert.Equal(newest, StampOf(lockDir)); // a plain rename back would have replaced this empty directory
        Assert.Empty(Debris());
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    public async Task Racing_breakers_of_one_dead_lock_end_with_exactly_one_holder(int breakers, bool plusCreator)
    {
        for (var round = 0; round < 25; round++)
        {
            var lockDir = PlantDeadLock();
            var log = new CollectingLog();
            var racers = breakers + (plusCreator ? 1 : 0);
            using var gate = new Barrier(racers);
            var tasks = Enumerable.Range(0, racers).Select(i => Task.Run(() =>
            {
                var service = new LockService(new LockSettings { PollInterval = TimeSpan.FromMilliseconds(1) }, log: log);
                var waiter = service.StartWaiting(Target, $"racer {i}");
                gate.SignalAndWait();
                if (i == breakers) // the creator only ever makes a lock (mkdir), as a holder arriving just after a break does
                {
                    for (var tries = 0; tries < 2000; tries++)
                    {
                        if (service.TryCreate(lockDir, $"creator {i}") is { } made)
                        {
                            return made;
                        }

                        Thread.SpinWait(50);
                    }

                    return null;
                }

                return waiter.TryAcquire($"breaker {i}");
            })).ToList();
            var handles = (await Task.WhenAll(tasks)).OfType<LockHandle>().ToList();

            foreach (var h in handles)
            {
                h.Heartbeat(); // the lost-lock check every holder makes before it changes anything
            }

            var holders = handles.Where(h => !h.IsLost).ToList();
            Assert.True(holders.Count == 1, $"round {round}: {holders.Count} holders of {handles.Count} handles\n{log.Text}");
            Assert.Equal(LockOwnerRecord.TryRead(lockDir)!.Nonce, holders[0].OwnNonce); // the record beside the lock is the holder's
            Assert.Equal(1, log.Infos.Count(l => l.Contains("took over", StringComparison.Ordinal)));
            Assert.Empty(Debris());
            foreach (var h in handles)
            {
                h.Dispose();
            }

            Assert.False(Directory.Exists(lockDir), $"round {round}: the holder released it");
        }
    }

    private List<string> Debris() =>
        Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(Target)!).Where(p => p.Contains(".stale-", StringComparison.Ordinal) || p.Contains(".clock-probe", StringComparison.Ordinal)).ToList();
}
