using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RepoLock.Tests.Npm;

/// <summary>
/// A deterministic, in-process npm registry for tests. The real npm CLI can install from it
/// (<c>--registry {Url}</c>). Packages are generated in memory: each version gets a real gzipped
/// tarball (<c>package/package.json</c>, <c>package/index.js</c>) with sha512 integrity and sha1 shasum.
/// </summary>
/// <remarks>
/// Routes (GET/HEAD; anything else, e.g. audit/security POSTs, is 404 <c>{"error":"Not found"}</c>):
/// <list type="bullet">
/// <item><c>/{name}</c>, <c>/@scope%2fname</c>, <c>/@scope/name</c> — packument (full JSON, also for the
/// <c>application/vnd.npm.install-v1+json</c> "corgi" Accept header).</item>
/// <item><c>/{name}/-/{basename}-{version}.tgz</c> — tarball.</item>
/// </list>
/// </remarks>
public sealed class FakeNpmRegistry : IDisposable
{
    // Fixed timestamps so packuments and tarballs are byte-for-byte reproducible.
    private static readonly DateTimeOffset BaseTime = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    // npm itself packs every entry with this mtime.
    private static readonly DateTimeOffset TarEntryTime = new(1985, 10, 26, 8, 15, 0, TimeSpan.Zero);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _acceptLoop;
    private readonly object _gate = new();
    private readonly Dictionary<string, PackageState> _packages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TarballEntry> _tarballs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly HashSet<string> _hangs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TarballHold> _holds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _packumentCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _tarballCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private long _tarballLatencyTicks;
    private int _versionCounter;
    private int _disposed;

    private FakeNpmRegistry(TcpListener listener)
    {
        _listener = listener;
        Url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Base URL with a trailing slash, e.g. <c>http://127.0.0.1:12345/</c>.</summary>
    public string Url { get; }

    /// <summary>Fixed delay added before every tarball response.</summary>
    public TimeSpan TarballLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tarballLatencyTicks));
        set => Interlocked.Exchange(ref _tarballLatencyTicks, value < TimeSpan.Zero ? 0 : value.Ticks);
    }

    /// <summary>Starts a registry on 127.0.0.1 on a free port.</summary>
    public static FakeNpmRegistry Start()
    {
        // Port 0: the OS picks a free port atomically, no probe-then-bind race.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 256);
        return new FakeNpmRegistry(listener);
    }

    /// <summary>
    /// Adds (or replaces) <paramref name="name"/>@<paramref name="version"/>. When <paramref name="distTag"/>
    /// is not null the tag is moved to this version. <paramref name="bin"/> names a command that runs the package's index.js
    /// (<c>"bin": {"&lt;bin&gt;": "index.js"}</c>), for which npm writes a <c>node_modules/.bin</c> link.
    /// </summary>
    public FakeNpmRegistry AddPackage(
        string name,
        string version,
        IDictionary<string, string>? dependencies = null,
        string? indexJs = null,
        string? distTag = "latest",
        string? installScript = null,
        string? bin = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ValidateName(name);

        var deps = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (dependencies != null)
        {
            foreach (var (k, v) in dependencies) deps[k] = v;
        }

        indexJs ??= DefaultIndexJs(name, version);
        byte[] tgz = BuildTarball(name, version, deps, indexJs, installScript, bin);
        string integrity = "sha512-" + Convert.ToBase64String(SHA512.HashData(tgz));
        string shasum = Convert.ToHexStringLower(SHA1.HashData(tgz));
        string tarballPath = $"{name}/-/{BaseName(name)}-{version}.tgz";

        lock (_gate)
        {
            if (!_packages.TryGetValue(name, out var pkg))
            {
                pkg = new PackageState(name);
                _packages.Add(name, pkg);
            }
            var published = BaseTime.AddMinutes(++_versionCounter);
            pkg.Versions[version] = new VersionState(version, deps, Url + tarballPath, integrity, shasum, published, installScript, bin);
            if (!pkg.Order.Contains(version)) pkg.Order.Add(version);
            if (distTag != null) pkg.DistTags[distTag] = version;
            pkg.Modified = published;
            pkg.CachedPackument = null;
            _tarballs[tarballPath] = new TarballEntry(name, tgz);
        }
        return this;
    }

    /// <summary>Packument requests for <paramref name="name"/> are answered with <paramref name="statusCode"/>.</summary>
    public void FailWith(string name, int statusCode)
    {
        lock (_gate) _failures[name] = statusCode;
    }

    /// <summary>Packument requests for <paramref name="name"/> never get an answer (until <see cref="Dispose"/>).</summary>
    public void Hang(string name)
    {
        lock (_gate) _hangs.Add(name);
    }

    /// <summary>
    /// Tarball requests for <paramref name="name"/> wait until the hold is released (or the registry disposed): an npm install that
    /// stays in its download for as long as a test or the bench needs, and says when it got there (<see cref="TarballHold.Requested"/>).
    /// </summary>
    public TarballHold HoldTarball(string name)
    {
        var hold = new TarballHold();
        lock (_gate) _holds[name] = hold;
        return hold;
    }

    /// <summary>Number of packument requests received for <paramref name="name"/> (including failed/hung ones).</summary>
    public int PackumentRequests(string name) => _packumentCounts.TryGetValue(name, out int n) ? n : 0;

    /// <summary>Number of tarball requests received for any version of <paramref name="name"/>.</summary>
    public int TarballRequests(string name) => _tarballCounts.TryGetValue(name, out int n) ? n : 0;

    /// <summary>The SRI integrity (<c>sha512-…</c>) of the tarball of <paramref name="name"/>@<paramref name="version"/>.</summary>
    public string? IntegrityOf(string name, string version)
    {
        lock (_gate)
        {
            return _packages.TryGetValue(name, out var pkg) && pkg.Versions.TryGetValue(version, out var v)
                ? v.Integrity
                : null;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _shutdown.Cancel();
        try { _listener.Stop(); } catch { /* ignore */ }
        // Reset every open connection, including requests parked by Hang() or mid-latency:
        // clients see ECONNRESET, never a (fake) answer.
        foreach (var socket in _connections.Keys)
        {
            AbortSocket(socket);
        }
        try { _acceptLoop.Wait(TimeSpan.FromSeconds(5)); } catch { /* ignore */ }
    }

    // ---------------------------------------------------------------- HTTP/1.1 over TcpListener
    // A deliberately tiny server: GET/HEAD, Content-Length responses, keep-alive. HttpListener is not
    // used because its managed implementation answers still-pending requests with an empty 200 when
    // it is closed, which would turn Hang() into a bogus successful response.

    private async Task AcceptLoopAsync()
    {
        var ct = _shutdown.Token;
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            _connections.TryAdd(socket, 0);
            if (ct.IsCancellationRequested)
            {
                AbortSocket(socket);
                return;
            }
            _ = Task.Run(() => HandleConnectionAsync(socket, ct));
        }
    }

    private async Task HandleConnectionAsync(Socket socket, CancellationToken ct)
    {
        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var reader = new RequestReader(stream);
            while (!ct.IsCancellationRequested)
            {
                var request = await reader.ReadAsync(ct).ConfigureAwait(false);
                if (request == null) break; // client closed the connection

                var response = await RouteAsync(request, ct).ConfigureAwait(false);
                bool keepAlive = request.KeepAlive && response.Status != 400;
                await WriteResponseAsync(stream, request, response, keepAlive, ct).ConfigureAwait(false);
                if (!keepAlive) break;
            }
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception)
        {
            // Cancelled (Dispose), client went away, or garbage on the wire: just drop the connection.
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            AbortSocket(socket);
        }
    }

    private static void AbortSocket(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST
        }
        catch { /* ignore */ }
        try { socket.Close(); } catch { /* ignore */ }
    }

    private static async Task WriteResponseAsync(Stream stream, HttpRequest request, HttpResponse response, bool keepAlive, CancellationToken ct)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(ReasonPhrase(response.Status)).Append("\r\n");
        head.Append("Content-Type: ").Append(response.ContentType).Append("\r\n");
        head.Append("Content-Length: ").Append(response.Body.Length).Append("\r\n");
        head.Append("Cache-Control: no-cache\r\n");
        head.Append("Connection: ").Append(keepAlive ? "keep-alive" : "close").Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), ct).ConfigureAwait(false);
        if (request.Method != "HEAD" && response.Body.Length > 0)
        {
            await stream.WriteAsync(response.Body, ct).ConfigureAwait(false);
        }
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };

    private async Task<HttpResponse> RouteAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.Method == null) return new HttpResponse(400, "text/plain", []);

        string path = DecodePath(request.Target);
        if (request.Method != "GET" && request.Method != "HEAD") return NotFound();

        int sep = path.IndexOf("/-/", StringComparison.Ordinal);
        if (sep > 0 && path.EndsWith(".tgz", StringComparison.Ordinal))
        {
            return await ServeTarballAsync(path, ct).ConfigureAwait(false);
        }

        if (path.Length == 0 || !LooksLikePackageName(path)) return NotFound();

        return await ServePackumentAsync(path, ct).ConfigureAwait(false);
    }

    private async Task<HttpResponse> ServePackumentAsync(string name, CancellationToken ct)
    {
        _packumentCounts.AddOrUpdate(name, 1, (_, n) => n + 1);

        bool hang;
        int? failure = null;
        byte[]? body = null;
        lock (_gate)
        {
            hang = _hangs.Contains(name);
            if (_failures.TryGetValue(name, out int code)) failure = code;
            if (!hang && failure == null && _packages.TryGetValue(name, out var pkg))
            {
                body = pkg.CachedPackument ??= BuildPackument(pkg);
            }
        }

        if (hang)
        {
            // Never answers: throws OperationCanceledException on Dispose, which resets the connection.
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }

        if (failure is int status)
        {
            return status == 404
                ? NotFound()
                : new HttpResponse(status, "application/json", JsonBytes(new { error = $"Fake failure {status}" }));
        }

        return body == null ? NotFound() : new HttpResponse(200, "application/json", body);
    }

    private async Task<HttpResponse> ServeTarballAsync(string path, CancellationToken ct)
    {
        TarballEntry? entry;
        lock (_gate) _tarballs.TryGetValue(path, out entry);

        string countName = entry?.Name ?? path[..path.IndexOf("/-/", StringComparison.Ordinal)];
        _tarballCounts.AddOrUpdate(countName, 1, (_, n) => n + 1);

        TarballHold? hold;
        lock (_gate) _holds.TryGetValue(countName, out hold);
        if (hold is not null)
        {
            hold.Arrived();
            await hold.Released.WaitAsync(ct).ConfigureAwait(false);
        }

        var latency = TarballLatency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, ct).ConfigureAwait(false);
        }

        return entry == null ? NotFound() : new HttpResponse(200, "application/octet-stream", entry.Bytes);
    }

    private static HttpResponse NotFound() => new(404, "application/json", JsonBytes(new { error = "Not found" }));

    /// <summary>Turns <c>/@scope%2fname?x=y</c> into <c>@scope/name</c>.</summary>
    private static string DecodePath(string rawUrl)
    {
        int q = rawUrl.IndexOfAny(['?', '#']);
        if (q >= 0) rawUrl = rawUrl[..q];
        // Absolute-form request targets (proxies) – keep only the path.
        if (rawUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(rawUrl, UriKind.Absolute, out var abs))
        {
            rawUrl = abs.AbsolutePath;
        }
        string decoded;
        try { decoded = Uri.UnescapeDataString(rawUrl); }
        catch (UriFormatException) { decoded = rawUrl; }
        return decoded.TrimStart('/');
    }

    private static bool LooksLikePackageName(string path)
    {
        var parts = path.Split('/');
        return parts.Length switch
        {
            1 => parts[0].Length > 0 && parts[0][0] != '@',
            2 => parts[0].Length > 1 && parts[0][0] == '@' && parts[1].Length > 0,
            _ => false,
        };
    }

    private static void ValidateName(string name)
    {
        if (!LooksLikePackageName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid npm package name (expected 'name' or '@scope/name').", nameof(name));
        }
    }

    // ---------------------------------------------------------------- content

    private static string BaseName(string name)
    {
        int slash = name.IndexOf('/');
        return slash >= 0 ? name[(slash + 1)..] : name;
    }

    private static string DefaultIndexJs(string name, string version) =>
        "\"use strict\";\n" +
        "exports.fn = (f) => (state) => f(state);\n" +
        $"exports.name = {JsonSerializer.Serialize(name)};\n" +
        $"exports.version = {JsonSerializer.Serialize(version)};\n";

    private static byte[] BuildTarball(string name, string version, SortedDictionary<string, string> deps, string indexJs, string? installScript, string? bin)
    {
        byte[] packageJson = ManifestJson(name, version, deps, installScript, bin);
        byte[] index = new UTF8Encoding(false).GetBytes(indexJs);

        using var tarBuffer = new MemoryStream();
        using (var writer = new TarWriter(tarBuffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            WriteFile(writer, "package/package.json", packageJson);
            WriteFile(writer, "package/index.js", index);
        }

        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            tarBuffer.Position = 0;
            tarBuffer.CopyTo(gzip);
        }
        return gz.ToArray();
    }

    private static void WriteFile(TarWriter writer, string path, byte[] content)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, path)
        {
            DataStream = new MemoryStream(content, writable: false),
            ModificationTime = TarEntryTime,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            Uid = 0,
            Gid = 0,
        };
        writer.WriteEntry(entry);
    }

    private static byte[] ManifestJson(string name, string version, SortedDictionary<string, string> deps, string? installScript, string? bin)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("version", version);
            w.WriteString("main", "index.js");
            WriteDeps(w, deps);
            WriteInstallScript(w, installScript);
            WriteBin(w, bin);
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    private static byte[] BuildPackument(PackageState pkg)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("_id", pkg.Name);
            w.WriteString("name", pkg.Name);
            w.WriteString("modified", Iso(pkg.Modified));

            w.WriteStartObject("dist-tags");
            foreach (var (tag, ver) in pkg.DistTags.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(tag, ver);
            }
            w.WriteEndObject();

            w.WriteStartObject("versions");
            foreach (string ver in pkg.Order)
            {
                var v = pkg.Versions[ver];
                w.WriteStartObject(ver);
                w.WriteString("_id", $"{pkg.Name}@{ver}");
                w.WriteString("name", pkg.Name);
                w.WriteString("version", ver);
                w.WriteString("main", "index.js");
                WriteDeps(w, v.Dependencies);
                WriteInstallScript(w, v.InstallScript);
                WriteBin(w, v.Bin);
                w.WriteStartObject("dist");
                w.WriteString("tarball", v.TarballUrl);
                w.WriteString("integrity", v.Integrity);
                w.WriteString("shasum", v.Shasum);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();

            w.WriteStartObject("time");
            w.WriteString("created", Iso(pkg.Order.Select(o => pkg.Versions[o].Published).Min()));
            w.WriteString("modified", Iso(pkg.Modified));
            foreach (string ver in pkg.Order)
            {
                w.WriteString(ver, Iso(pkg.Versions[ver].Published));
            }
            w.WriteEndObject();

            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static void WriteDeps(Utf8JsonWriter w, SortedDictionary<string, string> deps)
    {
        w.WriteStartObject("dependencies");
        foreach (var (k, v) in deps) w.WriteString(k, v);
        w.WriteEndObject();
    }

    /// <summary>An <c>install</c> lifecycle script (and the packument's <c>hasInstallScript</c>), for tests that prove scripts do or do not run.</summary>
    private static void WriteInstallScript(Utf8JsonWriter w, string? installScript)
    {
        if (installScript is null) return;
        w.WriteBoolean("hasInstallScript", true);
        w.WriteStartObject("scripts");
        w.WriteString("install", installScript);
        w.WriteEndObject();
    }

    private static void WriteBin(Utf8JsonWriter w, string? bin)
    {
        if (bin is null) return;
        w.WriteStartObject("bin");
        w.WriteString(bin, "index.js");
        w.WriteEndObject();
    }

    private static string Iso(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] JsonBytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private sealed class PackageState(string name)
    {
        public string Name { get; } = name;
        public Dictionary<string, VersionState> Versions { get; } = new(StringComparer.Ordinal);
        public List<string> Order { get; } = [];
        public Dictionary<string, string> DistTags { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset Modified { get; set; }
        public byte[]? CachedPackument { get; set; }
    }

    private sealed record VersionState(
        string Version,
        SortedDictionary<string, string> Dependencies,
        string TarballUrl,
        string Integrity,
        string Shasum,
        DateTimeOffset Published,
        string? InstallScript = null,
        string? Bin = null);

    private sealed record TarballEntry(string Name, byte[] Bytes);

    private sealed record HttpResponse(int Status, string ContentType, byte[] Body);

    /// <summary>A parsed request head. <see cref="Method"/> is null for a malformed request.</summary>
    private sealed record HttpRequest(string? Method, string Target, bool KeepAlive);

    /// <summary>Reads HTTP/1.x request heads (and discards Content-Length bodies) from a stream.</summary>
    private sealed class RequestReader(Stream stream)
    {
        private const int MaxHead = 64 * 1024;
        private readonly byte[] _buffer = new byte[MaxHead];
        private int _start;
        private int _end;

        public async Task<HttpRequest?> ReadAsync(CancellationToken ct)
        {
            int headEnd;
            while ((headEnd = FindHeadEnd()) < 0)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length) return new HttpRequest(null, "", false); // head too large
                int n = await stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
                if (n == 0) return null;
                _end += n;
            }

            string head = Encoding.Latin1.GetString(_buffer, _start, headEnd - _start);
            _start = headEnd + 4;

            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                return new HttpRequest(null, "", false);
            }

            bool http11 = requestLine[2] == "HTTP/1.1";
            string? connection = null;
            long contentLength = 0;
            bool chunked = false;
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon <= 0) continue;
                string key = line[..colon].Trim();
                string value = line[(colon + 1)..].Trim();
                if (key.Equals("Connection", StringComparison.OrdinalIgnoreCase)) connection = value;
                else if (key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) long.TryParse(value, out contentLength);
                else if (key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) chunked = !value.Equals("identity", StringComparison.OrdinalIgnoreCase);
            }

            bool keepAlive = connection == null
                ? http11
                : connection.Contains("keep-alive", StringComparison.OrdinalIgnoreCase) ||
                  (http11 && !connection.Contains("close", StringComparison.OrdinalIgnoreCase));

            // Bodies are never needed (only GET/HEAD are served); skip them so keep-alive stays in sync.
            // A chunked request body is not worth parsing: answer and close the connection instead.
            if (chunked) keepAlive = false;
            else await SkipAsync(contentLength, ct).ConfigureAwait(false);

            return new HttpRequest(requestLine[0], requestLine[1], keepAlive);
        }

        private int FindHeadEnd()
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            int i = span.IndexOf("\r\n\r\n"u8);
            return i < 0 ? -1 : _start + i;
        }

        private async Task SkipAsync(long count, CancellationToken ct)
        {
            long buffered = Math.Min(count, _end - _start);
            _start += (int)buffered;
            count -= buffered;
            while (count > 0)
            {
                int n = await stream.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(count, _buffer.Length)), ct).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException();
                count -= n;
            }
            if (_start == _end) _start = _end = 0;
        }
    }
}

/// <summary>A tarball held back by <see cref="FakeNpmRegistry.HoldTarball"/>: completes <see cref="Requested"/> at the first request; answers once released.</summary>
public sealed class TarballHold
{
    private readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the tarball is first asked for.</summary>
    public Task Requested => _requested.Task;

    internal Task Released => _released.Task;

    /// <summary>Answers the waiting requests, and every later one at once.</summary>
    public void Release() => _released.TrySetResult();

    internal void Arrived() => _requested.TrySetResult();
}
