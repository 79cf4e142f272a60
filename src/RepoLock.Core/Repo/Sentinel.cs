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

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    public static Sentinel? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Sentinel>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
