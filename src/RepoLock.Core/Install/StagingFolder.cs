using System.Text.Json;

using RepoLock.Core.Locking;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Install;

/// <summary>
/// A private folder inside the repo (<c>.staging/&lt;host&gt;-&lt;pid&gt;-&lt;random&gt;</c>) where npm installs one adaptor before it is moved into
/// <c>node_modules</c> with one rename. Same volume as the repo, so the rename is atomic. A marker names the owner so the next
/// installer of the alias can remove what a dead process left behind.
/// </summary>
internal sealed class StagingFolder : IDisposable
{
    private const string MarkerName = ".repolock-staging.json";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private StagingFolder(string path) => Path = path;

    public string Path { get; }

    public string Trash => System.IO.Path.Combine(Path, "trash");

    public static StagingFolder Create(RepoLayout layout, string alias, MachineIdentity self)
    {
        var host = Sanitize(self.Host);
        var name = $"{host[..Math.Min(host.Length, 40)]}-{self.ProcessId}-{Guid.NewGuid():N}";
        var path = System.IO.Path.Combine(layout.StagingDir, name);
        layout.RealDirectory(layout.StagingDir, create: true); // a link at .staging is refused (RL4002): npm never writes outside the repo
        Directory.CreateDirectory(path);
        var marker = new Marker(alias, self.MachineId, self.Host, self.ProcessId, self.ProcessStart);
        try
        {
            File.WriteAllText(System.IO.Path.Combine(path, MarkerName), JsonSerializer.Serialize(marker, Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk: without its marker no one could tell the folder is ours, and it would stay for a stale age. Take it back now.
            new StagingFolder(path).Dispose();
            throw;
        }

        return new StagingFolder(path);
    }

    public string StagedAdaptor(string alias) => System.IO.Path.Combine(Path, "node_modules", alias);

    /// <summary>Removes staging folders of <paramref name="alias"/> whose owner is provably dead (same machine), or foreign and older than <paramref name="staleAge"/>.</summary>
    public static int RemoveLeftovers(RepoLayout layout, string alias, MachineIdentity self, TimeSpan staleAge, IRepoLockLog log)
    {
        if (!layout.RealDirectory(layout.StagingDir, create: false))
        {
            return 0; // none yet; a link at .staging is refused (RL4002) before anything in it is looked at
        }

        // Ages are judged by the file server's clock (a probe file's mtime), never this machine's: the folders may be another machine's.
        var serverNow = ServerClock.Probe(layout.StagingDir);
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(layout.StagingDir))
        {
            if (RepoConfinement.KindOf(dir) != RepoConfinement.EntryKind.Directory)
            {
                continue; // a link (or a folder gone meanwhile): never followed, never ours
            }

            var why = WhyAbandoned(dir, self, staleAge, serverNow, out var owner);
            if (owner is not null && owner != alias)
            {
                continue;
            }

            var dead = why is not null;
            if (dead && TryDelete(dir))
            {
                removed++;
                log.Detail($"RepoLock: removed the staging folder {dir} left by a process that is gone.");
            }
        }

        return removed;
    }

    /// <summary>
    /// Why a staging folder is judged abandoned, or null while its owner may be working: its owner on this machine is gone, or it is
    /// another machine's (or has no marker) and is older than <paramref name="staleAge"/> by the file server's clock.
    /// </summary>
    /// <param name="dir">The staging folder.</param>
    /// <param name="self">This process, to tell this machine's owners from others.</param>
    /// <param name="staleAge">How long another machine's folder must be untouched.</param>
    /// <param name="serverNow">The file server's clock, or null when it could not be read (then nothing foreign is judged abandoned).</param>
    /// <param name="alias">The alias its marker names, or null without a marker.</param>
    internal static string? WhyAbandoned(string dir, MachineIdentity self, TimeSpan staleAge, DateTime? serverNow, out string? alias)
    {
        var marker = TryReadMarker(dir);
        alias = marker?.Alias;
        var age = serverNow is { } now ? now - Directory.GetLastWriteTimeUtc(dir) : TimeSpan.Zero;
        if (marker is not null && marker.MachineId == self.MachineId)
        {
            return MachineIdentity.IsProcessAlive(marker.ProcessId, marker.ProcessStart)
                ? null
                : $"staging folder of {marker.Alias}, left by process {marker.ProcessId} on this machine, which is gone";
        }

        // A folder whose marker was never written, or another machine's: only once clearly abandoned.
        return age > staleAge
            ? $"staging folder{(marker is null ? " without a marker" : $" of {marker.Alias} from {marker.Host}")}, untouched for {age.TotalSeconds:0} s (stale age {staleAge.TotalSeconds:0} s)"
            : null;
    }

    public void Dispose() => TryDelete(Path);

    internal static bool TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static Marker? TryReadMarker(string dir)
    {
        try
        {
            return JsonSerializer.Deserialize<Marker>(File.ReadAllText(System.IO.Path.Combine(dir, MarkerName)), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static string Sanitize(string host) => new(host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_').ToArray());

    private sealed record Marker(string Alias, string MachineId, string Host, int ProcessId, string ProcessStart);
}
