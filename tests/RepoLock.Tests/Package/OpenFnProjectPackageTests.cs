using System.Text.Json;
using Xunit.Abstractions;

namespace RepoLock.Tests.Package;

/// <summary>
/// <c>OpenFnProject</c> through the packed package, as a customer uses it: YamlDotNet ships beside the task, a consumer with only a
/// project.yaml and a CLI workflow installs what their jobs name, and the folder defaults show in <c>dotnet msbuild -getProperty</c>
/// with the package's targets imported where NuGet imports them.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class OpenFnProjectPackageTests : IClassFixture<PackageFixture>
{
    private const string Alpha = PackageFixture.Alpha;
    private const string Beta = PackageFixture.Beta;

    private readonly PackageFixture _fixture;
    private readonly ITestOutputHelper _output;

    public OpenFnProjectPackageTests(PackageFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [Fact]
    public void YamlDotNet_ships_beside_the_task()
    {
        Assert.Contains("tasks/net8.0/YamlDotNet.dll", _fixture.Package.Entries());
    }

    [Fact]
    public void A_consumer_with_only_a_project_yaml_and_a_workflow_json_installs_what_their_jobs_name_into_the_default_repo()
    {
        var consumer = new Consumer(_fixture.Package, "openfn-only", null, _fixture.Registry.Url)
            .WithOpenFnProject("project.yaml", $"workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '{Alpha}@1.0.0'\n      b:\n        name: no adaptor\n")
            .WithOpenFnProject("workflow.json", $$"""{ "steps": [ { "adaptors": ["{{Alpha}}@1.0.0", "{{Beta}}@2.0.0"] } ] }""");
        consumer.Restore();

        var (getCode, getOutput) = consumer.GetProperties("AdaptorRepoDir", "RepoLockBundleDir", "RepoLockInstallBeforeTargets");
        using var build = consumer.StartBuild();
        var code = build.WaitForExitAsync(PackedPackage.DotnetTimeout).GetAwaiter().GetResult();
        _output.WriteLine(build.Stdout);

        Assert.True(getCode == 0, getOutput);
        var properties = JsonDocument.Parse(getOutput[getOutput.IndexOf('{', StringComparison.Ordinal)..]).RootElement.GetProperty("Properties");
        var output = Path.Combine(consumer.Directory, "bin", "Debug", "net10.0");
        var repo = Path.Combine(output, "openfn-repo");
        Assert.Equal(repo + "/", properties.GetProperty("AdaptorRepoDir").GetString());
        Assert.Equal(Path.Combine(output, "publish", "openfn-repo") + "/", properties.GetProperty("RepoLockBundleDir").GetString());
        Assert.Equal("BeforeCompile", properties.GetProperty("RepoLockInstallBeforeTargets").GetString());
        Assert.True(code == 0, build.Output);
        var sentinels = Directory.EnumerateFiles(Path.Combine(repo, ".sentinels"), "*.done", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(repo, ".sentinels"), f)).Order(StringComparer.Ordinal);
        Assert.Equal([$"{Alpha}_1.0.0.done", $"{Beta}_2.0.0.done"], sentinels);
        Assert.Contains($"RepoLock: installing {Alpha}@1.0.0 into ", build.Stdout, StringComparison.Ordinal);
        Assert.Contains("RepoLock: 2 adaptor(s) in ", build.Stdout, StringComparison.Ordinal);
    }
}
