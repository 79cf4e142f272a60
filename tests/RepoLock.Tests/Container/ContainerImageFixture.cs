using System.Diagnostics;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.MSBuild;
using RepoLock.Tests.Npm;
using RepoLock.Tests.Package;

namespace RepoLock.Tests.Container;

/// <summary>
/// One real <c>dotnet publish -t:PublishContainer</c> of a consumer with two adaptors from the fake npm registry, on the base image
/// <c>localhost:PORT/base:1</c> from a <see cref="FakeOciRegistry"/>, written as an image file (<c>ContainerArchiveOutputPath</c>).
/// The SDK's layer cache (<c>$XDG_CACHE_HOME/dotnet/Containers</c>) and temporary files stay in the fixture's folder.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerImageFixture : IDisposable
{
    public const string Alpha = "@fixture/language-alpha";
    public const string Beta = "@fixture/language-beta";
    public const string AlphaAlias = Alpha + "_1.0.0";
    public const string BetaAlias = Beta + "_2.0.0";
    public const string ToolIndexJs = "#!/usr/bin/env node\n\"use strict\";\nexports.tool = \"dep-tool 1.0.0\";\n";
    public const string ToolBin = "node_modules/" + AlphaAlias + "/node_modules/.bin/fixture-tool";

    private const string Tool = "@fixture/dep-tool";

    private readonly TempDir _dir = new("container");
    private readonly FakeOciRegistry _oci = FakeOciRegistry.Start();
    private readonly FakeNpmRegistry _npm = FakeNpmRegistry.Start()
        .AddPackage(Tool, "1.0.0", indexJs: ToolIndexJs, bin: "fixture-tool")
        .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { [Tool] = "^1.0.0" },
            "\"use strict\";\nexports.fn = (f) => (state) => f(state);\nexports.toolName = () => require(\"@fixture/dep-tool\").tool;\n")
        .AddPackage(Beta, "2.0.0");

    public ContainerImageFixture()
    {
        BaseLayer = BaseImage.Push(_oci, "base", "1");
        var project = new AdaptorProject(_dir.Combine("consumer"), _npm.Url, HostKind.Sdk)
            .Property("OutputType", "Exe")
            .Property("EnableSdkContainerSupport", "true")
            .Property("UseSharedCompilation", "false")
            .Property("AdaptorRepoDir", _dir.Combine("repo"))
            .Property("RepoLockCreateRepoDir", "true")
            .Adaptor($"{Alpha}@1.0.0")
            .Adaptor($"{Beta}@2.0.0");
        var path = project.Write();
        File.WriteAllText(Path.Combine(project.Directory, "Program.cs"), "System.Console.WriteLine(\"consumer\");\n");
        PublishedBundle = Path.Combine(project.Directory, "bin", "Release", "net10.0", "publish", "openfn-repo");
        LayerCache = _dir.Combine("xdg-cache", "dotnet", "Containers");
        var archive = _dir.Combine("image.tar");

        var clock = Stopwatch.StartNew();
        using var publish = ChildProcess.Start("dotnet",
        [
            "publish", path, "-c", "Release", "-tl:off", "-t:PublishContainer", $"-p:ContainerBaseImage={_oci.Host}/base:1",
            $"-p:ContainerArchiveOutputPath={archive}", "-p:ContainerRuntimeIdentifier=linux-x64", "-p:ContainerRepository=openfn-worker-test",
        ], project.Directory, Environment());
        var code = publish.WaitForExitAsync(PackedPackage.DotnetTimeout).GetAwaiter().GetResult();
        PublishTime = clock.Elapsed;
        Requests = _oci.Requests;
        Output = $"{publish.Output}\nregistry requests:\n{string.Join("\n", Requests)}";
        Image = code == 0 && File.Exists(archive) ? ImageArchive.Read(archive) : null;
        Root = _dir.Combine("container-root");
        if (Image is not null)
        {
            ImageArchive.Extract(Image.Layers[^1], Root);
        }
    }

    /// <summary>The image read back; null when the publish failed (<see cref="Output"/> says why).</summary>
    internal ImageArchive? Image { get; }

    /// <summary>The publish's output and the registry's request log.</summary>
    public string Output { get; }

    public TimeSpan PublishTime { get; }

    /// <summary>"METHOD path" of every request the SDK made to the OCI registry.</summary>
    public IReadOnlyList<string> Requests { get; }

    /// <summary>The digest of the base image's one layer.</summary>
    public string BaseLayer { get; }

    /// <summary>The bundle folder in the publish folder, as the SDK found it.</summary>
    public string PublishedBundle { get; }

    /// <summary>Where the SDK keeps the layers it pulls and builds, under the fixture's XDG_CACHE_HOME.</summary>
    public string LayerCache { get; }

    /// <summary>The app layer extracted, as a container runtime lays it out: the bundle is at <c>app/openfn-repo</c> under it.</summary>
    public string Root { get; }

    public void Dispose()
    {
        _npm.Dispose();
        _oci.Dispose();
        _dir.Dispose();
    }

    /// <summary>npm's cache and config, and the SDK's temporary and cache folders, all inside the fixture's folder.</summary>
    private Dictionary<string, string?> Environment() => new()
    {
        ["npm_config_cache"] = _dir.Combine("npm-cache"),
        ["npm_config_userconfig"] = _dir.Combine("no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
        ["REPOLOCK_TEST_CHECKPOINT_DIR"] = null,
        ["TMPDIR"] = Directory.CreateDirectory(_dir.Combine("tmp")).FullName,
        ["XDG_CACHE_HOME"] = Directory.CreateDirectory(_dir.Combine("xdg-cache")).FullName,
    };
}
