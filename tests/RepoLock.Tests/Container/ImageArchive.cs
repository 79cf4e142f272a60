using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace RepoLock.Tests.Container;

/// <summary>
/// An image file as the SDK writes it for <c>ContainerArchiveOutputPath</c>, read back: a <c>docker save</c> tarball
/// (<c>manifest.json</c> naming the config and the layers) or an OCI image layout (<c>index.json</c>, <c>blobs/sha256/</c>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class ImageArchive
{
    private ImageArchive(string format, JsonNode config, IReadOnlyList<IReadOnlyList<LayerEntry>> layers)
    {
        Format = format;
        Config = config;
        Layers = layers;
    }

    /// <summary>"docker" or "oci".</summary>
    public string Format { get; }

    /// <summary>The image config JSON.</summary>
    public JsonNode Config { get; }

    /// <summary>The image's <c>config.Env</c>.</summary>
    public IReadOnlyList<string> Env => Config["config"]?["Env"]?.AsArray().Select(e => e!.GetValue<string>()).ToList() ?? [];

    /// <summary>Each layer's entries, base layers first; names without a leading <c>./</c> or <c>/</c>.</summary>
    public IReadOnlyList<IReadOnlyList<LayerEntry>> Layers { get; }

    public static ImageArchive Read(string path)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is not null)
                {
                    using var data = new MemoryStream();
                    entry.DataStream.CopyTo(data);
                    files[entry.Name.TrimStart('.', '/')] = data.ToArray();
                }
            }
        }

        if (files.TryGetValue("manifest.json", out var docker))
        {
            var manifest = JsonNode.Parse(docker)!.AsArray().Single()!;
            return new ImageArchive("docker", JsonNode.Parse(files[manifest["Config"]!.GetValue<string>()])!,
                manifest["Layers"]!.AsArray().Select(l => ReadLayer(files[l!.GetValue<string>()])).ToList());
        }

        byte[] Blob(JsonNode descriptor) => files["blobs/sha256/" + descriptor["digest"]!.GetValue<string>()["sha256:".Length..]];
        var node = JsonNode.Parse(files["index.json"])!;
        while (node["manifests"] is JsonArray manifests) // an index (possibly nested): its one manifest
        {
            node = JsonNode.Parse(Blob(manifests.Single()!))!;
        }

        return new ImageArchive("oci", JsonNode.Parse(Blob(node["config"]!))!, node["layers"]!.AsArray().Select(l => ReadLayer(Blob(l!))).ToList());
    }

    /// <summary>Writes a layer's folders, files (with their modes) and links under <paramref name="root"/>, as a container runtime would.</summary>
    public static void Extract(IReadOnlyList<LayerEntry> layer, string root)
    {
        foreach (var entry in layer)
        {
            var target = Path.Combine(root, entry.Name);
            switch (entry.Type)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(target);
                    break;
                case TarEntryType.SymbolicLink:
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.CreateSymbolicLink(target, entry.LinkName);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.WriteAllBytes(target, entry.Data!);
                    File.SetUnixFileMode(target, entry.Mode);
                    break;
                default:
                    throw new InvalidOperationException($"unexpected {entry.Type} entry {entry.Name} in the layer");
            }
        }
    }

    private static List<LayerEntry> ReadLayer(byte[] bytes)
    {
        Stream stream = new MemoryStream(bytes);
        if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        var entries = new List<LayerEntry>();
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            byte[]? data = null;
            if (entry.DataStream is not null)
            {
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                data = buffer.ToArray();
            }

            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name.TrimStart('/');
            entries.Add(new LayerEntry(name.TrimEnd('/'), entry.EntryType, entry.LinkName, entry.Mode, data));
        }

        return entries;
    }
}

/// <summary>One entry of an image layer.</summary>
internal sealed record LayerEntry(string Name, TarEntryType Type, string LinkName, UnixFileMode Mode, byte[]? Data);
