using RepoLock.Core.Diagnostics;

namespace RepoLock.Core.Locking;

/// <summary>
/// Tells a waiter at once when its lock directory is made, removed or renamed through this machine's kernel (a release, a new holder, a
/// break), by the kernel's file notifications (inotify on Linux, through <see cref="FileSystemWatcher"/>): a waiter on the same machine
/// sees a release in milliseconds instead of at its next poll, and polls no more for it. Notifications only report changes made through
/// this machine: on NFS, sshfs and other network mounts a holder on another machine releases unseen, so a waiter's polls stay, as the
/// fallback; they are never replaced. Where no watcher can be set (the inotify limits, a file system that refuses one), a waiter only polls.
/// </summary>
/// <remarks>
/// One watcher per folder serves every waiter of the process: each <see cref="FileSystemWatcher"/> costs an inotify instance and a thread,
/// and a user may have only 128 instances on the machine. It watches directory entries only (made, removed, renamed), so a holder's owner
/// record renewals and the probe files wake nobody.
/// </remarks>
internal sealed class LockFolderWatch : IDisposable
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<string, Folder> s_folders = new(StringComparer.Ordinal);

    private readonly object _gate = new();
    private readonly Folder _folder;
    private readonly string _name;
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _changed;
    private bool _disposed;

    private LockFolderWatch(Folder folder, string name)
    {
        _folder = folder;
        _name = name;
    }

    /// <summary>Whether a change arrived that <see cref="TakeChange"/> has not taken yet.</summary>
    public bool HasChange
    {
        get
        {
            lock (_gate)
            {
                return _changed;
            }
        }
    }

    /// <summary>Watches <paramref name="lockDir"/>'s entry in its folder; null where no watcher can be set (the waiter then only polls).</summary>
    public static LockFolderWatch? TryStart(string lockDir, IRepoLockLog log)
    {
        var folderPath = Path.GetDirectoryName(lockDir);
        if (string.IsNullOrEmpty(folderPath))
        {
            return null;
        }

        lock (s_gate)
        {
            if (!s_folders.TryGetValue(folderPath, out var folder))
            {
                try
                {
                    folder = new Folder(folderPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
                {
                    log.Detail($"RepoLock: no file notifications for {folderPath} ({e.Message}); waiting by polling only.");
                    return null;
                }

                s_folders[folderPath] = folder;
            }

            var watch = new LockFolderWatch(folder, Path.GetFileName(lockDir));
            folder.Waiters.Add(watch);
            return watch;
        }
    }

    /// <summary>A task that completes when a change is pending (at once if one is already).</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                if (_changed)
                {
                    return Task.CompletedTask;
                }

                if (_signal.Task.IsCompleted)
                {
                    _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                return _signal.Task;
            }
        }
    }

    /// <summary>Sleeps for <paramref name="span"/> on <paramref name="time"/>; true if <paramref name="watch"/> saw the lock change meanwhile.</summary>
    public static async Task<bool> SleepAsync(LockFolderWatch? watch, TimeSpan span, TimeProvider time, CancellationToken cancellationToken)
    {
        if (watch is null)
        {
            await Task.Delay(span, time, cancellationToken).ConfigureAwait(false);
            return false;
        }

        var changed = watch.Changed;
        if (changed.IsCompleted)
        {
            return true;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(span, time, stop.Token);
        var first = await Task.WhenAny(delay, changed).ConfigureAwait(false);
        stop.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
        return first == changed;
    }

    /// <summary>True once per batch of changes that arrived since the last call.</summary>
    public bool TakeChange()
    {
        lock (_gate)
        {
            var changed = _changed;
            _changed = false;
            return changed;
        }
    }

    public void Dispose()
    {
        lock (s_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _folder.Waiters.Remove(this);
            if (_folder.Waiters.Count > 0)
            {
                return;
            }

            s_folders.Remove(_folder.Path);
        }

        _folder.Watcher.Dispose(); // outside the gate: the watcher's thread may be waiting for it to notify
    }

    private void Signal()
    {
        lock (_gate)
        {
            _changed = true;
            _signal.TrySetResult();
        }
    }

    /// <summary>One folder's watcher and the waiters it serves.</summary>
    private sealed class Folder
    {
        public Folder(string path)
        {
            Path = path;
            Watcher = new FileSystemWatcher(path) { NotifyFilter = NotifyFilters.DirectoryName, IncludeSubdirectories = false };
            Watcher.Created += (_, e) => Notify(e.Name, null);
            Watcher.Deleted += (_, e) => Notify(e.Name, null);
            Watcher.Renamed += (_, e) => Notify(e.Name, e.OldName);
            Watcher.Error += (_, _) => Notify(null, null); // events were lost (queue overflow): everyone looks again
            Watcher.EnableRaisingEvents = true;
        }

        public string Path { get; }

        public FileSystemWatcher Watcher { get; }

        public List<LockFolderWatch> Waiters { get; } = [];

        private void Notify(string? name, string? oldName)
        {
            LockFolderWatch[] waiters;
            lock (s_gate)
            {
                waiters = [.. Waiters];
            }

            foreach (var waiter in waiters)
            {
                if (name is null || waiter._name == name || waiter._name == oldName)
                {
                    waiter.Signal();
                }
            }
        }
    }
}
