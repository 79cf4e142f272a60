using System.Text.Json;
using System.Text.Json.Serialization;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Locking;

/// <summary>
/// Who holds a lock, written next to the lock directory as <c>&lt;lockdir&gt;.owner.json</c> (the lock directory itself stays empty,
/// as proper-lockfile requires). <see cref="LastHeartbeatTicks"/> is the lock directory's mtime exactly as the holder last read it back,
/// which ties the record to one lock incarnation.
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

    [JsonIgnore]
    public DateTime LastHeartbeatUtc => new(LastHeartbeatTicks, DateTimeKind.Utc);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>True if both records come from one acquisition: the same process incarnation on the same machine, acquired at the same time.</summary>
    internal bool IsSameAcquisition(LockOwnerRecord other) =>
        MachineId == other.MachineId && ProcessId == other.ProcessId && ProcessStart == other.ProcessStart && AcquiredAt == other.AcquiredAt;

    public static string PathFor(string lockDir) => lockDir + ".owner.json";

    public static LockOwnerRecord? TryRead(string lockDir)
    {
        try
        {
            return JsonSerializer.Deserialize<LockOwnerRecord>(File.ReadAllText(PathFor(lockDir)), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null; // missing, half-visible or foreign: treated as an unknown holder
        }
    }

    public void Write(string lockDir) => AtomicFile.WriteAllText(PathFor(lockDir), JsonSerializer.Serialize(this, Json), durable: false); // advisory: no fsync on the hot path

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
