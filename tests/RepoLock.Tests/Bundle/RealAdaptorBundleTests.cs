using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Bundle;

/// <summary>The case from the field, with the real packages: a Node worker installs @openfn/language-http, npm hoists its dependencies.</summary>
public class RealAdaptorBundleTests : IClassFixture<BundleFixture>, IDisposable
{
    private const string Npmjs = "https://registry.npmjs.org/";

    private readonly BundleFixture _fx;
    private readonly TempDir _dir = new("realbundle");

    public RealAdaptorBundleTests(BundleFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_real_language_http_installed_by_a_Node_worker_runs_from_the_extracted_bundle_with_the_real_runtime()
    {
        var repo = _dir.Combine("repo");
        await _fx.WorkerInstallAsync(repo, "@openfn/language-http", "7.2.10", Npmjs);
        Assert.True(File.Exists(Path.Combine(repo, "node_modules", "@openfn", "language-common", "package.json")), "npm did not hoist language-common: the test proves nothing");
        var archive = _dir.Combine("publish", "openfn-repo.tar.gz");

        RepoBundle.Create(repo, [AdaptorSpecifier.Parse("@openfn/language-http@7.2.10")], _dir.Combine("publish", "openfn-repo"), archive);

        var image = BundleFixture.Extract(archive, _dir.Combine("image", "repo"));
        Assert.True(File.Exists(Path.Combine(image, "node_modules", "@openfn", "language-common", "package.json")));
        var state = await BundleFixture.RunJobAsync(image, "@openfn/language-http", "7.2.10",
            "fn(state => ({ ...state, data: { ok: true, seen: dataValue('x')({ data: { x: 42 } }) } }));\n");
        Assert.True(state["data"]!["ok"]!.GetValue<bool>());
        Assert.Equal(42, state["data"]!["seen"]!.GetValue<int>());
    }
}
