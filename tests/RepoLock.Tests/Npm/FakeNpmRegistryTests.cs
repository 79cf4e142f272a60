using System.Text.Json;

namespace RepoLock.Tests.Npm;

/// <summary>Proves <see cref="FakeNpmRegistry"/> against the real npm CLI.</summary>
public sealed class FakeNpmRegistryTests : IDisposable
{
    private readonly string _root;
    private readonly string _work;
    private readonly string _cache;
    private readonly FakeNpmRegistry _registry;

    public FakeNpmRegistryTests()
    {
        _root = Path.Combine(Path.GetTempPath(), "repolock-fakereg-" + Guid.NewGuid().ToString("N")[..12]);
        _work = Path.Combine(_root, "staging");
        _cache = Path.Combine(_root, "cache");
        Directory.CreateDirectory(_work);
        Directory.CreateDirectory(_cache);
        File.WriteAllText(Path.Combine(_work, "package.json"), """{"name":"staging","private":true}""");
        _registry = FakeNpmRegistry.Start();
    }

    public void Dispose()
    {
        _registry.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private (int ExitCode, string Output) Npm(params string[] args) =>
        NpmCli.Run(_work, [.. args, "--registry", _registry.Url, "--cache", _cache]);

    private static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Install_AliasedScopedPackage_WithShallowStrategy_NestsDependencyUnderAlias()
    {
        _registry
            .AddPackage("@fixture/dep-one", "1.0.0")
            .AddPackage("@fixture/dep-one", "2.0.0")
            .AddPackage("@fixture/dep-one", "2.1.0")
            .AddPackage("@fixture/dep-one", "3.0.0")
            .AddPackage("@fixture/language-alpha", "1.0.0",
                new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0" });

        var (exit, output) = Npm(
            "install", "--install-strategy=shallow", "--no-package-lock", "--no-audit", "--no-fund",
            "alpha_1.0.0@npm:@fixture/language-alpha@1.0.0");

        Assert.True(exit == 0, output);

        string nm = Path.Combine(_work, "node_modules");
        var alpha = ReadJson(Path.Combine(nm, "alpha_1.0.0", "package.json"));
        Assert.Equal("@fixture/language-alpha", alpha.GetProperty("name").GetString());
        Assert.Equal("1.0.0", alpha.GetProperty("version").GetString());
        Assert.Equal("index.js", alpha.GetProperty("main").GetString());
        Assert.True(File.Exists(Path.Combine(nm, "alpha_1.0.0", "index.js")));

        // Shallow: only the direct dependency (the alias) is top level; its deps are nested under it.
        string nestedDep = Path.Combine(nm, "alpha_1.0.0", "node_modules", "@fixture", "dep-one", "package.json");
        Assert.True(File.Exists(nestedDep), output);
        var dep = ReadJson(nestedDep);
        Assert.Equal("@fixture/dep-one", dep.GetProperty("name").GetString());
        Assert.Equal("2.1.0", dep.GetProperty("version").GetString()); // highest match of ^2.0.0
        Assert.False(Directory.Exists(Path.Combine(nm, "@fixture")), "dep-one must not be hoisted to the top level");

        // --no-package-lock: no package-lock.json, package.json gets the alias added.
        Assert.False(File.Exists(Path.Combine(_work, "package-lock.json")));
        var staging = ReadJson(Path.Combine(_work, "package.json"));
        // npm applies its default save-prefix to the alias spec (use --save-exact to keep "1.0.0").
        Assert.Equal("npm:@fixture/language-alpha@^1.0.0",
            staging.GetProperty("dependencies").GetProperty("alpha_1.0.0").GetString());

        // The hidden lockfile records integrity from the packument.
        string hidden = Path.Combine(nm, ".package-lock.json");
        Assert.True(File.Exists(hidden), output);
        var packages = ReadJson(hidden).GetProperty("packages");
        var alphaEntry = packages.GetProperty("node_modules/alpha_1.0.0");
        Assert.Equal("@fixture/language-alpha", alphaEntry.GetProperty("name").GetString());
        Assert.Equal("1.0.0", alphaEntry.GetProperty("version").GetString());
        Assert.Equal(_registry.IntegrityOf("@fixture/language-alpha", "1.0.0"), alphaEntry.GetProperty("integrity").GetString());
        Assert.Equal(_registry.Url + "@fixture/language-alpha/-/language-alpha-1.0.0.tgz", alphaEntry.GetProperty("resolved").GetString());
        var depEntry = packages.GetProperty("node_modules/alpha_1.0.0/node_modules/@fixture/dep-one");
        Assert.Equal("2.1.0", depEntry.GetProperty("version").GetString());
        Assert.Equal(_registry.IntegrityOf("@fixture/dep-one", "2.1.0"), depEntry.GetProperty("integrity").GetString());

        // The default index.js is a loadable CommonJS adaptor exporting fn/name/version.
        var (nodeExit, nodeOut) = RunNode(_work,
            "const a = require('alpha_1.0.0'); const d = require('alpha_1.0.0/node_modules/@fixture/dep-one');" +
            "process.stdout.write([a.name, a.version, a.fn(s => s + 1)(41), d.version].join('|'));");
        Assert.True(nodeExit == 0, nodeOut);
        Assert.Equal("@fixture/language-alpha|1.0.0|42|2.1.0", nodeOut.Trim());

        Assert.Equal(1, _registry.TarballRequests("@fixture/language-alpha"));
        Assert.Equal(1, _registry.TarballRequests("@fixture/dep-one"));
        Assert.True(_registry.PackumentRequests("@fixture/language-alpha") >= 1);
        Assert.True(_registry.PackumentRequests("@fixture/dep-one") >= 1);
    }

    private static (int ExitCode, string Output) RunNode(string workingDir, string script)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("node")
        {
            WorkingDirectory = workingDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("-e");
        psi.ArgumentList.Add(script);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout);
        }
        return (p.ExitCode, stdout + stderr.Result);
    }

    [Fact]
    public void Install_MissingPackage_FailsWithE404()
    {
        _registry.AddPackage("@fixture/language-alpha", "1.0.0");
        _registry.FailWith("@fixture/language-alpha", 404);

        var (exit, output) = Npm(
            "install", "--install-strategy=shallow", "--no-package-lock", "--no-audit", "--no-fund",
            "alpha_1.0.0@npm:@fixture/language-alpha@1.0.0");

        Assert.NotEqual(0, exit);
        Assert.Contains("E404", output);
        Assert.True(_registry.PackumentRequests("@fixture/language-alpha") >= 1);
        Assert.Equal(0, _registry.TarballRequests("@fixture/language-alpha"));
        Assert.False(Directory.Exists(Path.Combine(_work, "node_modules", "alpha_1.0.0")));
    }

    [Fact]
    public void Install_UnknownPackage_FailsWithE404()
    {
        var (exit, output) = Npm(
            "install", "--no-package-lock", "--no-audit", "--no-fund", "@fixture/does-not-exist@1.0.0");

        Assert.NotEqual(0, exit);
        Assert.Contains("E404", output);
    }

    [Fact]
    public void Install_ServerError_Fails()
    {
        _registry.AddPackage("@fixture/language-alpha", "1.0.0");
        _registry.FailWith("@fixture/language-alpha", 500);

        var (exit, output) = Npm(
            "install", "--install-strategy=shallow", "--no-package-lock", "--no-audit", "--no-fund", "--fetch-retries=0",
            "alpha_1.0.0@npm:@fixture/language-alpha@1.0.0");

        Assert.NotEqual(0, exit);
        Assert.Contains("500", output);
        Assert.Equal(0, _registry.TarballRequests("@fixture/language-alpha"));
    }

    [Fact]
    public void View_Latest_PrintsDistTagVersion()
    {
        _registry
            .AddPackage("@fixture/language-beta", "1.0.0")
            .AddPackage("@fixture/language-beta", "1.2.0")
            .AddPackage("@fixture/language-beta", "2.0.0-rc.1", distTag: "next")
            .AddPackage("@fixture/language-beta", "1.1.5", distTag: null);

        var (exit, output) = Npm("view", "@fixture/language-beta@latest", "version", "--json");
        Assert.True(exit == 0, output);
        Assert.Equal("1.2.0", JsonSerializer.Deserialize<string>(output.Trim()));

        var (exitNext, outputNext) = Npm("view", "@fixture/language-beta@next", "version", "--json");
        Assert.True(exitNext == 0, outputNext);
        Assert.Equal("2.0.0-rc.1", JsonSerializer.Deserialize<string>(outputNext.Trim()));
    }

    [Fact]
    public async Task Tarball_MatchesIntegrityAndShasum_AndContainsPackageFiles()
    {
        _registry.AddPackage("plain-pkg", "0.1.0", new Dictionary<string, string> { ["x"] = "1" }, indexJs: "module.exports = 1;\n");
        using var http = new HttpClient();

        using var packument = JsonDocument.Parse(await http.GetStringAsync(_registry.Url + "plain-pkg"));
        var dist = packument.RootElement.GetProperty("versions").GetProperty("0.1.0").GetProperty("dist");
        string tarballUrl = dist.GetProperty("tarball").GetString()!;
        Assert.Equal(_registry.Url + "plain-pkg/-/plain-pkg-0.1.0.tgz", tarballUrl);
        Assert.Equal("0.1.0", packument.RootElement.GetProperty("dist-tags").GetProperty("latest").GetString());

        byte[] tgz = await http.GetByteArrayAsync(tarballUrl);
        Assert.Equal(_registry.IntegrityOf("plain-pkg", "0.1.0"),
            "sha512-" + Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(tgz)));
        Assert.Equal(dist.GetProperty("integrity").GetString(), _registry.IntegrityOf("plain-pkg", "0.1.0"));
        Assert.Equal(dist.GetProperty("shasum").GetString(),
            Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(tgz)));
        Assert.Null(_registry.IntegrityOf("plain-pkg", "9.9.9"));

        var files = new Dictionary<string, string>();
        using (var gz = new System.IO.Compression.GZipStream(new MemoryStream(tgz), System.IO.Compression.CompressionMode.Decompress))
        using (var tar = new System.Formats.Tar.TarReader(gz))
        {
            while (tar.GetNextEntry() is { } e)
            {
                using var r = new StreamReader(e.DataStream!);
                files[e.Name] = r.ReadToEnd();
            }
        }
        Assert.Equal(["package/index.js", "package/package.json"], files.Keys.Order().ToArray());
        Assert.Equal("module.exports = 1;\n", files["package/index.js"]);
        using var manifest = JsonDocument.Parse(files["package/package.json"]);
        Assert.Equal("1", manifest.RootElement.GetProperty("dependencies").GetProperty("x").GetString());

        // Deterministic: the same package generated by another registry has the same integrity.
        using var other = FakeNpmRegistry.Start();
        other.AddPackage("plain-pkg", "0.1.0", new Dictionary<string, string> { ["x"] = "1" }, indexJs: "module.exports = 1;\n");
        Assert.Equal(_registry.IntegrityOf("plain-pkg", "0.1.0"), other.IntegrityOf("plain-pkg", "0.1.0"));

        // Both packument spellings work, other paths are 404.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(_registry.Url + "plain-pkg")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(_registry.Url + "-/npm/v1/security/advisories/bulk")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(_registry.Url + "plain-pkg/-/plain-pkg-7.0.0.tgz")).StatusCode);
        Assert.Equal(2, _registry.PackumentRequests("plain-pkg"));
        Assert.Equal(2, _registry.TarballRequests("plain-pkg"));
    }

    [Fact]
    public async Task ScopedPackument_IsServedForEncodedAndUnencodedSlash()
    {
        _registry.AddPackage("@fixture/gamma", "1.0.0");
        using var http = new HttpClient();
        foreach (string path in new[] { "@fixture%2fgamma", "@fixture%2Fgamma", "@fixture/gamma" })
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync(_registry.Url + path));
            Assert.Equal("@fixture/gamma", doc.RootElement.GetProperty("name").GetString());
        }
        Assert.Equal(3, _registry.PackumentRequests("@fixture/gamma"));
    }

    [Fact]
    public async Task Hang_NeverAnswers_AndDisposeDoesNotHang()
    {
        var registry = FakeNpmRegistry.Start();
        registry.AddPackage("@fixture/slow", "1.0.0");
        registry.Hang("@fixture/slow");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var pending = http.GetAsync(registry.Url + "@fixture%2fslow");
        var finished = await Task.WhenAny(pending, Task.Delay(500));
        Assert.NotSame(pending, finished);
        Assert.Equal(1, registry.PackumentRequests("@fixture/slow"));

        var sw = System.Diagnostics.Stopwatch.StartNew();
        registry.Dispose();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"Dispose took {sw.Elapsed}");

        // The parked request is dropped instead of answered.
        // The parked request is reset, not answered.
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
        registry.Dispose(); // idempotent
    }

    [Fact]
    public void Install_HungPackument_FailsAfterFetchTimeout()
    {
        _registry.AddPackage("@fixture/language-alpha", "1.0.0");
        _registry.Hang("@fixture/language-alpha");

        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (exit, output) = Npm(
            "install", "--no-package-lock", "--no-audit", "--no-fund", "--fetch-retries=0", "--fetch-timeout=1000",
            "alpha_1.0.0@npm:@fixture/language-alpha@1.0.0");

        Assert.NotEqual(0, exit);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"npm took {sw.Elapsed}:\n{output}");
        // npm 11 reports: "npm error code FETCH_ERROR" / "network timeout at: {Url}@fixture%2flanguage-alpha"
        Assert.Contains("network timeout", output);
        Assert.Equal(1, _registry.PackumentRequests("@fixture/language-alpha"));
    }

    [Fact]
    public async Task TarballLatency_IsAppliedPerRequest_AndRequestsRunConcurrently()
    {
        _registry.AddPackage("lat", "1.0.0");
        _registry.TarballLatency = TimeSpan.FromMilliseconds(400);
        using var http = new HttpClient();
        string url = _registry.Url + "lat/-/lat-1.0.0.tgz";

        var sw = System.Diagnostics.Stopwatch.StartNew();
        await http.GetByteArrayAsync(url);
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(380), $"single request took {sw.Elapsed}");

        sw.Restart();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => http.GetByteArrayAsync(url)));
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(400 * 4), $"8 parallel requests took {sw.Elapsed}");
        Assert.Equal(9, _registry.TarballRequests("lat"));
    }

    [Fact]
    public void ConcurrentNpmInstalls_AgainstOneRegistry_AllSucceed()
    {
        _registry.AddPackage("@fixture/dep-one", "2.0.0");
        for (int i = 0; i < 3; i++)
        {
            _registry.AddPackage($"@fixture/language-c{i}", "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^2.0.0" });
        }

        var results = Enumerable.Range(0, 3).AsParallel().WithDegreeOfParallelism(3).Select(i =>
        {
            string dir = Path.Combine(_root, $"staging{i}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "package.json"), """{"name":"staging","private":true}""");
            var r = NpmCli.Run(dir, "install", "--install-strategy=shallow", "--no-package-lock", "--no-audit", "--no-fund",
                "--registry", _registry.Url, "--cache", Path.Combine(_root, $"cache{i}"),
                $"c{i}@npm:@fixture/language-c{i}@1.0.0");
            return (i, r.ExitCode, r.Output, dir);
        }).ToList();

        foreach (var (i, exit, output, dir) in results)
        {
            Assert.True(exit == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "node_modules", $"c{i}", "node_modules", "@fixture", "dep-one", "package.json")), output);
        }
        Assert.Equal(3, _registry.TarballRequests("@fixture/dep-one"));
    }
}
