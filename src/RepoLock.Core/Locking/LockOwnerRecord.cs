using System.Text.Json;
using System.Text.Json.Serialization;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// Who holds a lock, written next to the lock directory as <c>&lt;lockdir&gt;.owner.json</c> (the lock directory itself stays empty,
/// as proper-lockfile requires). <see cref="LastHeartbeatTicks"/> is the lock directory's mtime exactly as the holder last read it back,
/// which ties the record to one lock incarnation. The holder rewrites the record every <see cref="LeaseIntervalMs"/> with a new
/// <see cref="LeaseCounter"/>: its lease. A waiter that sees the record and the lock directory stay exactly the same for
/// <see cref="LeaseGraceMs"/> on its own monotonic clock judges the holder dead (see <see cref="LockWaiter"/>).
/// </summary>
internal sealed record LockOwnerRecord
{
    public string Host { get; init; } = "";
    public string MachineId { get; init; } = "";
    public int ProcessId { get; init; }
    public string ProcessStart { get; init; } = "";
    public string Purpose { get; init; } = "";
    public DateTimeOffset AcquiredAt { get; init; }
    public int HeartbeatIntervalMs { get; init; }
    public long LastHeartbeatTicks { get; init; }
    public string RepoLockVersion { get; init; } = "";

    /// <summary>A random token of this acquisition: a new acquisition by the same process is another holder.</summary>
    public string Nonce { get; init; } = "";

    /// <summary>Rises with every rewrite: a record that stops changing is a holder that stopped renewing its lease.</summary>
    public long LeaseCounter { get; init; }

    /// <summary>How often the holder renews its lease (rewrites this record); 0 in records of holders without a lease.</summary>
    public int LeaseIntervalMs { get; init; }

    /// <summary>How long a waiter must watch the record unchanged before it may judge the holder dead.</summary>
    public int LeaseGraceMs { get; init; }

    /// <summary>
    /// Written just before the holder refreshes the lock's mtime, cleared just after: if the holder dies in between, the lock's mtime is
    /// newer than <see cref="LastHeartbeatTicks"/> by about one heartbeat, and the record still describes this lock.
    /// </summary>
    public bool Touching { get; init; }

    [JsonIgnore]
    public DateTime LastHeartbeatUtc => new(LastHeartbeatTicks, DateTimeKind.Utc);

    /// <summary>The declared lease, if it is one a waiter can use: a grace of at least two renewals.</summary>
    [JsonIgnore]
    public TimeSpan? LeaseGrace => LeaseIntervalMs > 0 && LeaseGraceMs >= 2 * LeaseIntervalMs ? TimeSpan.FromMilliseconds(LeaseGraceMs) : null;

    /// <summary>Slack for whole-second mtimes and a slow touch, on top of the heartbeat, in <see cref="Describes"/>.</summary>
    private static readonly TimeSpan TouchSlack = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>True if both records come from one acquisition: the same process incarnation on the same machine, acquired at the same time.</summary>
    internal bool IsSameAcquisition(LockOwnerRecord other) =>
        MachineId == other.MachineId && ProcessId == other.ProcessId && ProcessStart == other.ProcessStart && AcquiredAt == other.AcquiredAt && Nonce == other.Nonce;

    /// <summary>
    /// Whether this record describes the lock whose mtime is <paramref name="mtime"/>: its last heartbeat is that mtime, or the holder was
    /// refreshing (<see cref="Touching"/>) and the mtime is newer by no more than one heartbeat. A lock taken over since cannot look like
    /// that: a taker (a Node worker, once the lock looked a stale age old) makes a lock at least half a stale age newer than our last
    /// heartbeat, and the allowance is only granted while it stays below half the stale age.
    /// </summary>
    internal bool Describes(DateTime mtime, TimeSpan staleAge)
    {
        if (mtime.Ticks == LastHeartbeatTicks)
        {
            return true;
        }

        var allowance = TimeSpan.FromMilliseconds(Math.Max(0, HeartbeatIntervalMs)) + TouchSlack;
        var ahead = mtime - LastHeartbeatUtc;
        return Touching && ahead > TimeSpan.Zero && ahead <= allowance && allowance < staleAge / 2;
    }

    public static string PathFor(string lockDir) => lockDir + ".owner.json";

    /// <summary>The most a record may take (a real one is about 500 bytes); a bigger file is not a record.</summary>
    public const int MaxBytes = 64 * 1024;

    public static LockOwnerRecord? TryRead(string lockDir) => TryRead(lockDir, out _);

    /// <summary>Reads the record (opening the file: on NFS that revalidates it); <paramref name="text"/> is its exact content, or null.</summary>
    public static LockOwnerRecord? TryRead(string lockDir, out string? text)
    {
        text = null;
        try
        {
            // Through a door at the locks folder: a regular file only (a FIFO planted there is never read), at most 1 MiB.
            var path = PathFor(lockDir);
            if (new Repo.RepoDoor(Path.GetDirectoryName(path)!).ReadFile(path, Repo.RepoDoor.SmallFileLimit) is not { } bytes)
            {
                return null;
            }

            text = System.Text.Encoding.UTF8.GetString(bytes);
            return JsonSerializer.Deserialize<LockOwnerRecord>(text, Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return null; // missing, half-visible or foreign: treated as an unknown holder
        }
    }

    /// <summary>A record from its exact text (as <see cref="TryRead(string, out string?)"/> returned it), or null.</summary>
    public static LockOwnerRecord? Parse(string? text)
    {
        try
        {
            return text is null ? null : JsonSerializer.Deserialize<LockOwnerRecord>(text, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(string lockDir) => AtomicFile.WriteAllText(PathFor(lockDir), JsonSerializer.Serialize(this, Json), durable: false); // advisory: no fsync on the hot path

    /// <summary>Removes the record at <paramref name="lockDir"/> only if it is <paramref name="ours"/> (the same acquisition), as the instance read.</summary>
    public static void DeleteIfSame(string lockDir, LockOwnerRecord ours)
    {
        var path = PathFor(lockDir);
        var door = new Repo.RepoDoor(Path.GetDirectoryName(path)!);
        try
        {
            if (door.ReadFile(path, Repo.RepoDoor.SmallFileLimit, fresh: false, out var instance) is { } bytes && instance is { } judged
                && Parse(System.Text.Encoding.UTF8.GetString(bytes)) is { } record && record.IsSameAcquisition(ours))
            {
                door.RemoveJudged(path, judged);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or RepoLockException)
        {
            // a record left behind is harmless: it describes no lock
        }
    }

    public static void Delete(string lockDir)
    {
        try
        {
            File.Delete(PathFor(lockDir));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // an invalid record is harmless: its heartbeat no longer matches any lock
        }
    }

    public string Describe(DateTime? lockMtimeUtc, DateTime? serverNowUtc)
    {
        var age = lockMtimeUtc is { } m && serverNowUtc is { } n ? $", {RefreshText(m, n)}" : "";
        return $"{Host} process {ProcessId} ({Purpose}) since {AcquiredAt:u}{age}";
    }

    /// <summary>"last refreshed 12 s ago"; for a lock stamped by a clock ahead of the file server's, how far in the future its mtime is.</summary>
    internal static string RefreshText(DateTime lockMtimeUtc, DateTime serverNowUtc)
    {
        var age = serverNowUtc - lockMtimeUtc;
        return age >= -TimeSpan.FromSeconds(1) // coarse mtimes and probe granularity put a fresh lock up to a second "ahead"
            ? $"last refreshed {Math.Max(0, age.TotalSeconds):0} s ago"
            : $"its mtime is {-age.TotalSeconds:0} s in the future (the clock that wrote it is ahead of the file server's)";
    }
}
