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
    }

    public string Root { get; }

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

    /// <summary>The runtime rule: installed when the sentinel and the adaptor's package.json both exist. The whole cache-hit path.</summary>
    public bool IsInstalled(string alias) => File.Exists(SentinelPath(alias)) && File.Exists(AdaptorManifest(alias));

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
