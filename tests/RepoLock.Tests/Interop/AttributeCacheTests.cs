using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Interop;

/// <summary>
/// A holder on a shared file system whose client caches attributes: it may read back its lock's old mtime after refreshing it, and keep
/// showing its own mtime after another process replaced the lock. Neither may fool the heartbeat: our own late-visible refresh is not a
/// lost lock, and a takeover is still one. (The sshfs tests run the real thing; this plays the cache exactly, with the
/// <see cref="ILockFileSystem"/> seam.)
/// </summary>
public sealed class AttributeCacheTests : IDisposable
{
    private readonly TempDir _dir = new("cache");
    private readonly CollectingLog _log = new();
    private readonly CachingFileSystem _fs = new();

    public void Dispose() => _dir.Dispose();

    private string Target => _dir.Combine(".locks", "adaptor.lock");

    private LockHandle Acquire() =>
        new LockService(new LockSettings { Heartbeat = TimeSpan.FromHours(1) }, log: _log) { FileSystem = _fs }.StartWaiting(Target, "t").TryAcquire("t")!;

    [Fact]
    public void A_refresh_the_cache_hid_on_read_back_is_not_taken_for_a_lost_lock()
    {
        _fs.AgeAtFirstRead = TimeSpan.FromSeconds(1); // the lock looks a second old, so the refresh's mtime differs from it in any tick
        using var held = Acquire();
        held.Heartbeat(); // touches the lock, reads back the cached (old) mtime

        _fs.Expire(); // the real, newer mtime shows up
        held.ThrowIfLost("x");

        Assert.False(held.IsLost, _log.Text);
        Assert.Contains("shows up late", _log.Text); // decided by the late-refresh rule, not by an unchanged mtime
    }

    [Fact]
    public void A_takeover_is_still_a_lost_lock_after_a_refresh_the_cache_hid()
    {
        using var held = Acquire();
        held.Heartbeat();
        var ours = DateTime.UtcNow;

        ReplaceLock(held.LockDir, ours.AddSeconds(5)); // taken over: a new lock directory, mtime newer than any refresh of ours could be
        _fs.Expire();

        Assert.Equal(ErrorCodes.LockLost, Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x")).Code);
    }

    [Fact]
    public void A_takers_owner_record_reveals_the_takeover_while_the_cache_still_shows_our_mtime()
    {
        var held = Acquire();
        var taker = LockOwnerRecord.TryRead(held.LockDir)! with { Host = "agent-7", ProcessId = 4242, MachineId = "another-boot/pid:[1]" };
        taker.Write(held.LockDir); // the taker's record; our cached view of the directory has not changed

        var e = Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x"));
        held.Dispose();

        Assert.Equal(ErrorCodes.LockLost, e.Code);
        Assert.Contains("agent-7 process 4242", e.Message);
        Assert.Equal(4242, LockOwnerRecord.TryRead(held.LockDir)!.ProcessId); // the taker's record is left alone
        Assert.True(Directory.Exists(held.LockDir)); // and so is its lock
    }

    [Fact]
    public void A_lock_removed_behind_the_cache_is_lost_at_the_refresh()
    {
        using var held = Acquire();
        Directory.Delete(held.LockDir); // the cache still says it exists

        Assert.Equal(ErrorCodes.LockLost, Assert.Throws<RepoLockException>(() => held.ThrowIfLost("x")).Code);
    }

    private static void ReplaceLock(string lockDir, DateTime mtime)
    {
        Directory.Delete(lockDir);
        Directory.CreateDirectory(lockDir);
        Directory.SetLastWriteTimeUtc(lockDir, mtime);
    }

    /// <summary>A client attribute cache that a touch does not refresh: every path shows the mtime first read until <see cref="Expire"/>.</summary>
    private sealed class CachingFileSystem : ILockFileSystem
    {
        private readonly Dictionary<string, DateTime?> _cache = [];

        /// <summary>Sets a path's real mtime this much into the past when it is first read (before it is cached).</summary>
        public TimeSpan AgeAtFirstRead { get; set; }

        public DateTime? GetMtimeUtc(string path)
        {
            lock (_cache)
            {
                if (_cache.TryGetValue(path, out var cached))
                {
                    return cached;
                }

                if (AgeAtFirstRead > TimeSpan.Zero && NativeFs.GetMtimeUtc(path) is { } real)
                {
                    Directory.SetLastWriteTimeUtc(path, real - AgeAtFirstRead);
                }

                return _cache[path] = NativeFs.GetMtimeUtc(path);
            }
        }

        public bool Touch(string path) => NativeFs.Touch(path);

        public void Expire()
        {
            lock (_cache)
            {
                _cache.Clear();
            }
        }
    }
}
