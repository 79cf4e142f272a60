using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace RepoLock.Tests.Container;

/// <summary>
/// A tiny linux/amd64 base image, built in memory and pushed to a <see cref="FakeOciRegistry"/>: one gzipped layer with one file, an
/// OCI image config (architecture, os, rootfs.diff_ids, Env), an OCI manifest, and under the tag an OCI image index naming that
/// manifest for linux/amd64, as multi-arch images such as OpenFn's are published.
/// </summary>
internal static class BaseImage
{
    public const string ReleaseFile = "etc/fake-base-release";
    public const string ReleaseText = "fake base image 1\n";
    public const string PathVariable = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private const string IndexType = "application/vnd.oci.image.index.v1+json";
    private const string ManifestType = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>Pushes the image as <paramref name="repository"/>:<paramref name="tag"/>; the digest of its one layer.</summary>
    public static string Push(FakeOciRegistry registry, string repository, string tag)
    {
        var tar = LayerTar();
        var layer = Gzip(tar);
        var layerDigest = registry.AddBlob(layer);
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Env"] = new JsonArray(PathVariable), ["WorkingDir"] = "/" },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(FakeOciRegistry.Digest(tar)) },
            ["history"] = new JsonArray(new JsonObject { ["created_by"] = "RepoLock.Tests BaseImage" }),
        }.ToJsonString());
        var configDigest = registry.AddBlob(config);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.Length),
            ["layers"] = new JsonArray(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, layer.Length)),
        };
        var manifestDigest = registry.AddManifest(repository, ManifestType, manifest);
        var manifestSize = Encoding.UTF8.GetByteCount(manifest.ToJsonString());
        var platformEntry = Descriptor(ManifestType, manifestDigest, manifestSize);
        platformEntry["platform"] = new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" };
        registry.AddManifest(repository, IndexType, new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexType,
            ["manifests"] = new JsonArray(platformEntry),
        }, tag);
        return layerDigest;
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };

    private static byte[] LayerTar()
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            var time = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "etc/") { ModificationTime = time, Mode = (UnixFileMode)0b111_101_101 });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, ReleaseFile)
            {
                ModificationTime = time,
                Mode = (UnixFileMode)0b110_100_100,
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(ReleaseText)),
            });
        }

        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }
}
