using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace RepoLock.Tests.Container;

/// <summary>
/// A read-only OCI distribution registry on 127.0.0.1, enough for the .NET SDK to pull a base image: <c>GET /v2/</c>, manifests and
/// image indexes by tag or digest, blobs by digest (GET and HEAD). Anything else is a 404 with the registry's error JSON.
/// Every request is logged (<see cref="Requests"/>), so a test can show what the SDK asked for.
/// </summary>
/// <remarks>
/// Addressed as <c>localhost:PORT</c>: the SDK treats a <c>localhost</c> registry as insecure (plain HTTP) without any setting.
/// One small HTTP/1.1 server: keep-alive, no chunked bodies, request bodies read and dropped. The SDK first tries HTTPS even for a
/// <c>localhost</c> registry and falls back to HTTP when that fails: a TLS handshake is answered by closing the connection.
/// </remarks>
internal sealed class FakeOciRegistry : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<string, (string MediaType, byte[] Bytes)> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _accept;

    private FakeOciRegistry(TcpListener listener)
    {
        _listener = listener;
        Host = $"localhost:{((IPEndPoint)listener.LocalEndpoint).Port}";
        _accept = Task.Run(AcceptLoopAsync);
    }

    /// <summary><c>localhost:PORT</c>, the registry part of an image name.</summary>
    public string Host { get; }

    /// <summary>"METHOD path" of every request, in arrival order.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    public static FakeOciRegistry Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 64);
        return new FakeOciRegistry(listener);
    }

    /// <summary>Stores a blob; its digest (<c>sha256:…</c>).</summary>
    public string AddBlob(byte[] bytes)
    {
        var digest = Digest(bytes);
        _blobs[digest] = bytes;
        return digest;
    }

    /// <summary>Stores a manifest or index under its digest and, when given, a tag of <paramref name="repository"/>; its digest.</summary>
    public string AddManifest(string repository, string mediaType, JsonNode manifest, string? tag = null)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = Digest(bytes);
        _manifests[$"{repository}@{digest}"] = (mediaType, bytes);
        if (tag is not null)
        {
            _manifests[$"{repository}:{tag}"] = (mediaType, bytes);
        }

        return digest;
    }

    public static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public void Dispose()
    {
        _shutdown.Cancel();
        _listener.Stop();
        try
        {
            _accept.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _shutdown.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_shutdown.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                while (await ReadRequestAsync(stream) is { } request)
                {
                    _requests.Enqueue($"{request.Method} {request.Path}");
                    await RespondAsync(stream, request);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task RespondAsync(Stream stream, (string Method, string Path) request)
    {
        var (status, type, body, digest) = Route(request.Path);
        var head = new StringBuilder()
            .Append($"HTTP/1.1 {(int)status} {status}\r\n")
            .Append("Docker-Distribution-API-Version: registry/2.0\r\n")
            .Append($"Content-Type: {type}\r\n")
            .Append($"Content-Length: {body.Length}\r\n");
        if (digest is not null)
        {
            head.Append($"Docker-Content-Digest: {digest}\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), _shutdown.Token);
        if (request.Method != "HEAD")
        {
            await stream.WriteAsync(body, _shutdown.Token);
        }

        await stream.FlushAsync(_shutdown.Token);
    }

    private (HttpStatusCode Status, string Type, byte[] Body, string? Digest) Route(string path)
    {
        path = path.Split('?')[0];
        if (path is "/v2/" or "/v2")
        {
            return (HttpStatusCode.OK, "application/json", "{}"u8.ToArray(), null);
        }

        var manifests = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        if (path.StartsWith("/v2/", StringComparison.Ordinal) && manifests > 4)
        {
            var repository = path[4..manifests];
            var reference = path[(manifests + "/manifests/".Length)..];
            var key = reference.StartsWith("sha256:", StringComparison.Ordinal) ? $"{repository}@{reference}" : $"{repository}:{reference}";
            if (_manifests.TryGetValue(key, out var manifest))
            {
                return (HttpStatusCode.OK, manifest.MediaType, manifest.Bytes, Digest(manifest.Bytes));
            }

            return NotFound("MANIFEST_UNKNOWN");
        }

        var blobs = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        if (path.StartsWith("/v2/", StringComparison.Ordinal) && blobs > 4 && _blobs.TryGetValue(path[(blobs + "/blobs/".Length)..], out var blob))
        {
            return (HttpStatusCode.OK, "application/octet-stream", blob, Digest(blob));
        }

        return NotFound(blobs > 4 ? "BLOB_UNKNOWN" : "NAME_UNKNOWN");
    }

    private static (HttpStatusCode, string, byte[], string?) NotFound(string code) =>
        (HttpStatusCode.NotFound, "application/json", Encoding.UTF8.GetBytes($$"""{"errors":[{"code":"{{code}}","message":"not in the test registry"}]}"""), null);

    /// <summary>The request line and headers; the body (Content-Length) is read and dropped. Null at the end of the connection.</summary>
    private async Task<(string Method, string Path)?> ReadRequestAsync(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one, _shutdown.Token) == 0)
            {
                return null;
            }

            if (head.Count == 0 && one[0] == 0x16)
            {
                // A TLS ClientHello: the SDK tries HTTPS first and falls back to HTTP when the connection fails. Close it.
                _requests.Enqueue("TLS handshake (closed: plain HTTP only)");
                return null;
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n");
        var length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => long.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var buffer = new byte[8192];
        for (var left = length; left > 0;)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), _shutdown.Token);
            if (read == 0)
            {
                return null;
            }

            left -= read;
        }

        var parts = lines[0].Split(' ');
        return (parts[0], parts.Length > 1 ? parts[1] : "/");
    }
}
