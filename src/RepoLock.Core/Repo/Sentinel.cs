using System.Text.Json;

using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// <c>&lt;repo&gt;/.sentinels/&lt;alias&gt;.done</c>: written last, atomically, once the adaptor is in place and listed.
/// Runtime rule: an adaptor is installed when its sentinel and <c>node_modules/&lt;alias&gt;/package.json</c> both exist.
/// </summary>
internal sealed record Sentinel
{
    public string Name { get; init; } = "";
    public string Version { get; init; } = "";
    public string Alias { get; init; } = "";
    public string? Integrity { get; init; }

    /// <summary>
    /// The content digest of <c>node_modules/&lt;alias&gt;/</c> as npm left it (<see cref="Bundle.ContentDigest"/>, <c>sha256-&lt;hex&gt;</c>),
    /// computed once before the move; null in sentinels written by others or by RepoLock before 0.2 (they stay valid, but cannot be
    /// verified). Its listing is in <c>.sentinels/&lt;alias&gt;.files</c>.
    /// </summary>
    public string? Digest { get; init; }
    /// <summary>True when RepoLock adopted a complete install another tool made (a stock OpenFn worker's): no digest, unverified.</summary>
    public bool Adopted { get; init; }

    public DateTimeOffset InstalledAt { get; init; }
    public string Host { get; init; } = "";
    public string MachineId { get; init; } = "";
    public int ProcessId { get; init; }
    public string RepoLockVersion { get; init; } = "";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Sentinel For(AdaptorSpecifier spec, string? integrity, MachineIdentity self, DateTimeOffset now) => new()
    {
        Name = spec.Name,
        Version = spec.VersionText,
        Alias = spec.Alias,
        Integrity = integrity,
        InstalledAt = now,
        Host = self.Host,
        MachineId = self.MachineId,
        ProcessId = self.ProcessId,
        RepoLockVersion = RepoLockInfo.Version,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Writes the sentinel, replacing any (tests and tools that build a repo by hand; installs create it with <see cref="RepoDoor.CreateFile"/>).</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>The sentinel at <paramref name="path"/> (a regular file in its folder, bounded), or null when absent or unreadable.</summary>
    public static Sentinel? TryRead(string path) => TryRead(new RepoDoor(Path.GetDirectoryName(Path.GetFullPath(path))!), Path.GetFullPath(path));

    /// <summary>The sentinel at <paramref name="path"/>, read through the door (a regular file, bounded), or null when absent or unreadable.</summary>
    public static Sentinel? TryRead(RepoDoor door, string path)
    {
        try
        {
            return door.ReadFile(path, RepoDoor.SmallFileLimit) is { } bytes ? JsonSerializer.Deserialize<Sentinel>(bytes, Json) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or RepoLockException)
        {
            return null;
        }
    }
}
