using System.Formats.Tar;
using System.Text;
using RepoLock.Tests.Bundle;
using RepoLock.Tests.Package;
using Xunit.Abstractions;
using Fx = RepoLock.Tests.Container.ContainerImageFixture;

namespace RepoLock.Tests.Container;

/// <summary>
/// <c>dotnet publish -t:PublishContainer</c>, the .NET SDK's own image builder, end to end and without a network: the base image from an
/// OCI registry on 127.0.0.1, the adaptors from the fake npm registry, the image written as a file and read back layer by layer.
/// </summary>
[Collection(PackageCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerPublishTests : IClassFixture<Fx>
{
    private const string BundleInImage = "app/openfn-repo";

    private readonly Fx _fx;
    private readonly ITestOutputHelper _output;

    public ContainerPublishTests(Fx fx, ITestOutputHelper output)
    {
        _fx = fx;
        _output = output;
    }

    private ImageArchive Image => _fx.Image ?? throw new Xunit.Sdk.XunitException("the container publish failed:\n" + _fx.Output);

    private IReadOnlyList<LayerEntry> AppLayer => Image.Layers[^1];

    [Fact]
    public void The_image_points_the_worker_and_the_CLI_at_the_bundle_under_app()
    {
        Assert.Contains($"WORKER_REPO_DIR=/{BundleInImage}", Image.Env);
        Assert.Contains($"OPENFN_REPO_DIR=/{BundleInImage}", Image.Env);
    }

    [Fact]
    public void The_image_is_built_on_the_base_image_pulled_from_the_local_registry_with_the_layer_cache_in_the_tests_folder()
    {
        _output.WriteLine($"dotnet publish -t:PublishContainer took {_fx.PublishTime.TotalSeconds:F1} s; the SDK asked the OCI registry:\n{string.Join("\n", _fx.Requests)}");
        Assert.Contains(Image.Layers[0], e => e.Name == BaseImage.ReleaseFile);
        Assert.Contains($"GET /v2/base/blobs/{_fx.BaseLayer}", _fx.Requests);
        Assert.True(Directory.Exists(Path.Combine(_fx.LayerCache, "Content")), $"no layer cache in {_fx.LayerCache}");
    }

    [Fact]
    public void Every_adaptor_and_its_sentinel_is_in_the_app_layer_under_app_openfn_repo()
    {
        foreach (var alias in new[] { Fx.AlphaAlias, Fx.BetaAlias })
        {
            Assert.Contains(AppLayer, e => e.Name == $"{BundleInImage}/node_modules/{alias}/package.json");
            Assert.Contains(AppLayer, e => e.Name == $"{BundleInImage}/.sentinels/{alias}.done");
        }

        Assert.Contains(AppLayer, e => e.Name == $"{BundleInImage}/package.json");
    }

    [Fact]
    public void An_npm_bin_link_becomes_an_executable_copy_of_its_script_and_the_app_layer_holds_no_link()
    {
        Assert.Equal("../@fixture/dep-tool/index.js", new FileInfo(Path.Combine(_fx.PublishedBundle, Fx.ToolBin)).LinkTarget); // a link in the bundle folder
        Assert.NotNull(_fx.Image);

        var bin = Assert.Single(AppLayer, e => e.Name == $"{BundleInImage}/{Fx.ToolBin}");

        Assert.Equal(TarEntryType.RegularFile, bin.Type);
        Assert.Equal(Fx.ToolIndexJs, Encoding.UTF8.GetString(bin.Data!));
        Assert.True(bin.Mode.HasFlag(UnixFileMode.UserExecute), $"mode {bin.Mode}");
        Assert.DoesNotContain(AppLayer, e => e.Type is TarEntryType.SymbolicLink or TarEntryType.HardLink);
    }

    [Fact]
    public async Task The_real_runtime_runs_a_job_with_each_adaptor_from_the_extracted_app_layer()
    {
        Assert.NotNull(Image);
        var repo = Path.Combine(_fx.Root, BundleInImage);

        var alpha = await BundleFixture.RunJobAsync(repo, Fx.Alpha, "1.0.0", "fn(state => ({ ...state, data: { tool: toolName() } }));\n");
        var beta = await BundleFixture.RunJobAsync(repo, Fx.Beta, "2.0.0", "fn(state => ({ ...state, data: { ok: true } }));\n");

        Assert.Equal("dep-tool 1.0.0", alpha["data"]!["tool"]!.GetValue<string>()); // its dependency, resolved inside the image's copy
        Assert.True(beta["data"]!["ok"]!.GetValue<bool>());
    }
}
