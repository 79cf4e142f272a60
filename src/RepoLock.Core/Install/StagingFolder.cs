using System.Text.Json;
using System.Text.RegularExpressions;

using RepoLock.Core.Locking;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Install;

/// <summary>
/// A private folder inside the repo (<c>.staging/&lt;alias, '/' as '+'&gt;~&lt;lock nonce&gt;</c>) where npm installs one adaptor before it
/// is moved into <c>node_modules</c> with one rename. Same volume as the repo, so the rename is atomic. It belongs to the alias lock it
/// was made under: its name carries that acquisition's nonce (the one in the lock's owner record), and it is debris only when that lock is
/// gone, belongs to another acquisition, or its holder is judged dead by the waiters' rules. Never by the folder's own mtime: it stops
/// changing while npm works inside it. A marker (<c>.repolock-staging.json</c>) names the process, for messages and for installers that
/// hold no lock (tests).
/// </summary>
internal sealed partial class StagingFolder : IDisposable
{
    private const string MarkerName = ".repolock-staging.json";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private StagingFolder(string path) => Path = path;

    public string Path { get; }

    public string Trash => System.IO.Path.Combine(Path, "trash");

    /// <param name="layout">The repo.</param>
    /// <param name="alias">The adaptor being installed.</param>
    /// <param name="self">This process.</param>
    /// <param name="lockNonce">The nonce of the alias lock held (<see cref="LockHandle.OwnNonce"/>), or null without a lock.</param>
    public static StagingFolder Create(RepoLayout layout, string alias, MachineIdentity self, string? lockNonce)
    {
        var name = $"{alias.Replace('/', '+')}~{lockNonce ?? Guid.NewGuid().ToString("N")}";
        var path = System.IO.Path.Combine(layout.StagingDir, name);
        layout.RealDirectory(path, create: true); // a link at .staging is refused (RL4002): npm never writes outside the repo
        var marker = new Marker(alias, self.MachineId, self.Host, self.ProcessId, self.ProcessStart, lockNonce);
        try
        {
            layout.Door.WriteFile(System.IO.Path.Combine(path, MarkerName), JsonSerializer.Serialize(marker, Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            new StagingFolder(path).Dispose(); // a full disk: take it back now
            throw;
        }

        return new StagingFolder(path);
    }

    public string StagedAdaptor(string alias) => System.IO.Path.Combine(Path, "node_modules", alias);

    /// <summary>Removes the staging folders of <paramref name="alias"/> judged abandoned (<see cref="WhyAbandoned"/>), each only as the instance judged.</summary>
    public static int RemoveLeftovers(RepoLayout layout, string alias, LockService locks, IRepoLockLog log)
    {
        var removed = 0;
        foreach (var (name, kind) in layout.Door.List(layout.StagingDir))
        {
            var dir = System.IO.Path.Combine(layout.StagingDir, name);
            if (kind != FsKind.Directory || OwnerAlias(layout, dir) != alias || WhyAbandoned(layout, dir, locks) is not { } why)
            {
                continue; // a link or a file (never followed, never ours), another alias's, or its owner may be working
            }

            if (layout.Door.Look(dir) is { } judged && layout.Door.RemoveJudged(dir, judged) == RemoveOutcome.Removed)
            {
                removed++;
                log.Detail($"RepoLock: removed the staging folder {dir}: {why}.");
            }
        }

        return removed;
    }

    /// <summary>
    /// Why a staging folder is abandoned, or null while its owner may be working. Its owner on this machine (host and machine identity
    /// agree) still running keeps it. Otherwise it is abandoned when the alias lock it was made under is gone, now belongs to another
    /// acquisition, or is judged dead (<see cref="LockJudge"/>). A folder of an older RepoLock (no lock nonce in its name) is judged as
    /// before: its owner on this machine is gone, or it is another machine's and untouched for the stale age by the file server's clock.
    /// </summary>
    internal static string? WhyAbandoned(RepoLayout layout, string dir, LockService locks)
    {
        var marker = TryReadMarker(layout, dir);
        if (marker is not null && locks.Self.IsSameMachine(marker.MachineId, marker.Host))
        {
            if (MachineIdentity.IsProcessAlive(marker.ProcessId, marker.ProcessStart))
            {
                return null;
            }

            if (marker.LockNonce is null)
            {
                return $"staging folder of {marker.Alias}, left by process {marker.ProcessId} on this machine, which is gone";
            }
        }

        if (Owner(System.IO.Path.GetFileName(dir)) is not { } owner)
        {
            return Legacy(layout, dir, marker, locks.Settings.StaleAge);
        }

        var lockDir = layout.LockTarget(owner.Alias) + ".lock";
        if (LockJudge.Judge(locks, owner.Alias, lockDir) is not { } held)
        {
            return $"staging folder of {owner.Alias}: the lock it was made under is gone";
        }

        var record = LockOwnerRecord.Parse(held.RecordText);
        if (record is not null && record.Nonce != owner.Nonce)
        {
            return $"staging folder of {owner.Alias}: the lock it was made under was released; {held.Holder} holds the alias now";
        }

        return held.Verdict == LockVerdict.Dead ? $"staging folder of {owner.Alias}: its lock's holder is judged dead ({held.Why})" : null;
    }

    public void Dispose() => TreeDelete.TryDelete(Path);

    /// <summary>The alias a staging folder belongs to, from its name (or its marker, for an older RepoLock's folder).</summary>
    private static string? OwnerAlias(RepoLayout layout, string dir) => Owner(System.IO.Path.GetFileName(dir))?.Alias ?? TryReadMarker(layout, dir)?.Alias;

    private static (string Alias, string Nonce)? Owner(string name) =>
        OwnerName().Match(name) is { Success: true } m ? (m.Groups[1].Value.Replace('+', '/'), m.Groups[2].Value) : null;

    private static string? Legacy(RepoLayout layout, string dir, Marker? marker, TimeSpan staleAge)
    {
        var serverNow = ServerClock.Probe(layout.StagingDir);
        var age = serverNow is { } now && layout.Door.Look(dir) is { } stat ? now - stat.Mtime : TimeSpan.Zero;
        return age > staleAge
            ? $"staging folder{(marker is null ? " without a marker" : $" of {marker.Alias} from {marker.Host}")} of an older RepoLock, untouched for {age.TotalSeconds:0} s (stale age {staleAge.TotalSeconds:0} s)"
            : null;
    }

    private static Marker? TryReadMarker(RepoLayout layout, string dir)
    {
        try
        {
            return layout.Door.ReadFile(System.IO.Path.Combine(dir, MarkerName), RepoDoor.SmallFileLimit) is { } bytes
                ? JsonSerializer.Deserialize<Marker>(bytes, Json)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return null;
        }
    }

    [GeneratedRegex("^(.+_[^~]+)~([0-9a-f]{32})$")]
    private static partial Regex OwnerName();

    private sealed record Marker(string Alias, string MachineId, string Host, int ProcessId, string ProcessStart, string? LockNonce);
}
