using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Races;

/// <summary>Tasks of one process contending for one lock file (each acquisition a real mkdir, as between processes).</summary>
public sealed class InProcessCounterTests : IDisposable
{
    private readonly TempDir _dir = new("counter");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Many_tasks_incrementing_under_the_lock_lose_no_update_and_do_contend()
    {
        var target = _dir.Combine(".locks", "counter.lock");
        var counter = _dir.Combine("counter.txt");
        File.WriteAllText(counter, "0");
        var service = new LockService(new LockSettings { PollInterval = TimeSpan.FromMilliseconds(1) });
        using var start = new Barrier(4);
        var waited = 0;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            Assert.True(start.SignalAndWait(TimeSpan.FromMinutes(1)), "the four tasks did not all start");
            for (var i = 0; i < 50; i++)
            {
                var held = service.StartWaiting(target, "count").TryAcquire("count");
                if (held is null)
                {
                    Interlocked.Increment(ref waited);
                    held = await service.AcquireAsync(target, "count", "count", default);
                }

                using (held)
                {
                    var v = int.Parse(File.ReadAllText(counter));
                    File.WriteAllText(counter, (v + 1).ToString());
                }
            }
        })));

        Assert.Equal("200", File.ReadAllText(counter));
        Assert.True(waited > 0, "no round ever found the lock held: nothing was contended");
    }
}
