using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RepoLock.Tool.Output;

/// <summary>How values are written: JSON for machines (camelCase, enums as names), sizes and times for people.</summary>
internal static class Show
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new SecondsConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Json(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0 'KB'", CultureInfo.InvariantCulture),
        < 1024L * 1024 * 1024 => (bytes / 1024.0 / 1024).ToString("0.0 'MB'", CultureInfo.InvariantCulture),
        _ => (bytes / 1024.0 / 1024 / 1024).ToString("0.0 'GB'", CultureInfo.InvariantCulture),
    };

    public static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Seconds(TimeSpan? span) => span is { } s ? $"{Math.Max(0, s.TotalSeconds):0} s ago" : "-";

    public static string YesNo(bool value) => value ? "yes" : "no";
}
