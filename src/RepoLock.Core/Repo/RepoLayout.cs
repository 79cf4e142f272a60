using RepoLock.Core.Diagnostics;

namespace RepoLock.Core.Repo;

/// <summary>
/// Where everything lives in an OpenFn adaptor repo. This is the on-disk contract runtime workers and Node tools read:
/// <c>package.json</c>, <c>node_modules/&lt;alias&gt;/</c>, <c>.sentinels/&lt;alias&gt;.done</c>, <c>.locks/&lt;alias&gt;.lock</c>.
/// </summary>
internal sealed class RepoLayout
{
    public RepoLayout(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw Errors.BadRepo(root ?? string.Empty, "no folder was given");
        }

        try
        {
            Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Errors.BadRepo(root, e.Message);
        }

        if (File.Exists(Root))
        {
            throw Errors.BadRepo(root, "it is a file, not a folder");
        }

        Door = new RepoDoor(Root);
    }

    public string Root { get; }

    /// <summary>The one door through which the repo is read and changed.</summary>
    public RepoDoor Door { get; }

    public string ManifestPath => Path.Combine(Root, "package.json");

    public string NodeModules => Path.Combine(Root, "node_modules");

    public string SentinelsDir => Path.Combine(Root, ".sentinels");

    public string LocksDir => Path.Combine(Root, ".locks");

    public string StagingDir => Path.Combine(Root, ".staging");

    /// <summary>The lock target for the repo manifest (the lock is the directory next to it, as for adaptors).</summary>
    public string ManifestLockTarget => Path.Combine(LocksDir, "package.json.lock");

    public string AdaptorDir(string alias) => Inside(Path.Combine(NodeModules, alias));

    public string AdaptorManifest(string alias) => Path.Combine(AdaptorDir(alias), "package.json");

    public string SentinelPath(string alias) => Inside(Path.Combine(SentinelsDir, alias + ".done"));

    /// <summary>The content listing whose SHA-256 is the sentinel's digest (written just before the sentinel; read only to name a difference).</summary>
    public string DigestListingPath(string alias) => Inside(Path.Combine(SentinelsDir, alias + ".files"));

    public string LockTarget(string alias) => Inside(Path.Combine(LocksDir, alias + ".lock"));

    /// <summary>
    /// The runtime rule: installed when the sentinel and the adaptor's package.json both exist, each a regular file, with no link or
    /// special file anywhere on the way from the root (never followed: not installed). The whole cache-hit path: a few by-name lookups.
    /// </summary>
    public bool IsInstalled(string alias) => Door.LooksInstalled(SentinelPath(alias), AdaptorManifest(alias));

    /// <summary>
    /// The runtime rule decided from fresh data, for the miss path before any step that deletes or replaces shared state: every entry
    /// (scope folders, the sentinel, the adaptor folder, its package.json) is looked for in a listing of its folder, walked from the root
    /// (<see cref="RepoDoor.Look"/>). A lookup may be answered from a client cache that still says "absent" (NFS and FUSE negative entries)
    /// for up to the cache's timeout; a listing asks the file server.
    /// </summary>
    /// <exception cref="RepoLockException">RL4002 when a folder above the entries is a link or not a folder.</exception>
    public bool IsInstalledFresh(string alias) => Installed(alias) == FreshState.Installed;

    /// <summary>
    /// Whether a waiter may take the alias as installed by a peer now: <see cref="IsInstalledFresh"/>, or, where a listing lags behind a
    /// peer that just finished (sshfs's directory cache, NFS's until <c>acdirmax</c>), its sentinel and its package.json both open as regular
    /// files. An open that succeeds was answered by the file server (FUSE and NFS's close-to-open ask it), so only "installed" is taken from
    /// an open; "not installed" is always a listing's, because a cached lookup can say "absent" for minutes. Nothing is changed on either answer.
    /// </summary>
    public bool IsInstalledNow(string alias) => IsInstalledFresh(alias) || OpensInstalled(alias);

    private bool OpensInstalled(string alias) =>
        Door.OpensOnServer(SentinelPath(alias), revalidate: false) && Door.OpensOnServer(AdaptorManifest(alias), revalidate: false);

    /// <summary>What fresh listings say of an alias.</summary>
    internal FreshState Installed(string alias)
    {
        var sentinel = Door.Look(SentinelPath(alias));
        if (Door.Look(AdaptorDir(alias)) is not { Kind: Platform.FsKind.Directory })
        {
            return FreshState.NotInstalled; // missing, or a link or file in its place: never followed
        }

        var manifest = Door.Look(AdaptorManifest(alias));
        return sentinel is { Kind: Platform.FsKind.File } && manifest is { Kind: Platform.FsKind.File } ? FreshState.Installed
            : sentinel is null && manifest is { Kind: Platform.FsKind.File } ? FreshState.NoSentinel
            : FreshState.NotInstalled;
    }

    /// <summary>
    /// The decision a lock holder makes before it installs: <see cref="IsInstalledFresh"/>, and if the sentinel is not in the listing
    /// although the file server has an entry there (a listing cache, such as sshfs's or FUSE's readdir cache, can lag behind a peer that
    /// just finished), installed if the sentinel and the package.json open on the server (<see cref="RepoDoor.OpensOnServer"/>, which asks
    /// past cached "absent" entries too), otherwise the listing is read again every <paramref name="poll"/> until it shows the entry, for at
    /// most <paramref name="limit"/>.
    /// The server is asked with <c>mkdir</c> on the sentinel's path: the kernel passes it to the server even over a cached "absent" entry;
    /// EEXIST means something is there, and a folder we did create is removed at once (a folder there counts as "not installed").
    /// </summary>
    public async Task<bool> IsInstalledSettledAsync(string alias, TimeSpan poll, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var sentinel = SentinelPath(alias);
        while (true)
        {
            if (IsInstalledFresh(alias))
            {
                return true;
            }

            var listed = Door.Look(sentinel) is not null;
            if (!listed && !ExistsOnServer(sentinel))
            {
                return false; // truly absent
            }

            // The sentinel is there (listed, or on the server past a lagging listing): whether the adaptor's own files are is asked of the
            // server too, past cached "absent" entries, as the listings of node_modules may lag the same way.
            if (Door.OpensOnServer(sentinel) && Door.OpensOnServer(AdaptorManifest(alias)))
            {
                return true;
            }

            if (listed || time.GetElapsedTime(started) > limit)
            {
                return false; // the adaptor's own files are what is missing
            }

            await Task.Delay(poll, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool ExistsOnServer(string path)
    {
        try
        {
            if (!Platform.NativeFs.TryCreateDirectory(path))
            {
                return true;
            }

            Directory.Delete(path);
            return false;
        }
        catch (IOException e) when (e.HResult == 1)
        {
            return true; // EPERM: SFTP (sshfs) answers mkdir over an existing entry with a generic failure, which FUSE reports so
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no parent folder, or not writable: nothing to wait for
        }
    }

    /// <summary>Checks that <paramref name="path"/>'s folders below the root are real folders (creating them if asked): RL4002 otherwise.</summary>
    public bool RealDirectory(string path, bool create) => Door.RealFolder(path, create);

    /// <summary>Checks that <paramref name="path"/>'s folders are real folders (created if asked) and the file, if there, a regular file: RL4002 otherwise.</summary>
    public void RealFile(string path, bool create) => RepoConfinement.RealFile(Root, path, create);

    private string Inside(string path)
    {
        var full = Path.GetFullPath(path);
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            // Unreachable for validated specifiers; a second fence, not the first.
            throw Errors.BadRepo(Root, $"'{path}' would be outside the repo");
        }

        return full;
    }
}
