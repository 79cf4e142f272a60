using System.Text.Json;
using System.Text.Json.Serialization;

namespace RepoLock.Tool.Output;

/// <summary>Durations in the JSON output are numbers of seconds (a lock's <c>age</c>), which scripts compare directly.</summary>
internal sealed class SecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromSeconds(reader.GetDouble());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(Math.Round(value.TotalSeconds, 3));
}
