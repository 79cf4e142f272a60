using System.Text.Json.Nodes;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;
using Xunit.Abstractions;

namespace RepoLock.Tests.Package;

/// <summary>
/// Child `dotnet` builds that take both cores for seconds at a time: run alone, after the parallel collections, so they never starve
/// the timing-sensitive lock tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackageCollection
{
    public const string Name = "Package";
}

/// <summary>The package packed once, and one consumer built from it once, shared by the tests that look at that build.</summary>
public sealed class PackageFixture : IDisposable
{
    public const string Alpha = "@fixture/language-alpha";
    public const string Beta = "@fixture/language-beta";

    private readonly Lazy<FirstBuild> _first;

    public PackageFixture()
    {
        Package = new PackedPackage();
        Registry = FakeNpmRegistry.Start()
            .AddPackage("@fixture/dep-one", "1.2.0")
            .AddPackage(Alpha, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^1.0.0" })
            .AddPackage(Beta, "2.0.0");
        _first = new Lazy<FirstBuild>(BuildFirstConsumer, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public PackedPackage Package { get; }

    public FakeNpmRegistry Registry { get; }

    /// <summary>A consumer with both item forms, restored, then built once with a diagnostic file log beside the console output.</summary>
    internal FirstBuild First => _first.Value;

    public void Dispose()
    {
        Registry.Dispose();
        Package.Dispose();
    }

    private FirstBuild BuildFirstConsumer()
    {
        var repo = Path.Combine(Package.NewDirectory("first-repo-parent"), "repo");
        var consumer = new Consumer(Package, "first", repo, Registry.Url, $"{Alpha}@1.0.0", $"{Beta}@2.0.0");
        consumer.Restore();
        var log = Path.Combine(consumer.Directory, "build.diag.log");
        using var build = consumer.StartBuild("-fl", $"-flp:Verbosity=diagnostic;LogFile={log}");
        var code = build.WaitForExitAsync(PackedPackage.DotnetTimeout).GetAwaiter().GetResult();
        return new FirstBuild(consumer, code, build.Stdout, File.Exists(log) ? File.ReadAllText(log) : "");
    }
}

internal sealed record FirstBuild(Consumer Consumer, int ExitCode, string Stdout, string DiagnosticLog);

[Collection(PackageCollection.Name)]
public sealed class PackageTests : IClassFixture<PackageFixture>
{
    private const string Alpha = PackageFixture.Alpha;
    private const string Beta = PackageFixture.Beta;
    private const string AlphaAlias = Alpha + "_1.0.0";
    private const string BetaAlias = Beta + "_2.0.0";

    private readonly PackageFixture _fixture;
    private readonly ITestOutputHelper _output;

    public PackageTests(PackageFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    private PackedPackage Package => _fixture.Package;

    private static void AssertInstalled(string repo, string alias)
    {
        Assert.True(File.Exists(Path.Combine(repo, ".sentinels", alias + ".done")), $"no sentinel for {alias} in {repo}");
        Assert.True(File.Exists(Path.Combine(repo, "node_modules", alias, "package.json")), $"no node_modules/{alias}/package.json in {repo}");
    }

    [Fact]
    public void The_task_the_core_and_the_NuGet_Versioning_they_ship_are_under_tasks_net8_0_with_their_pdbs()
    {
        var entries = Package.Entries();

        Assert.Contains("tasks/net8.0/RepoLock.Tasks.dll", entries);
        Assert.Contains("tasks/net8.0/RepoLock.Core.dll", entries);
        Assert.Contains("tasks/net8.0/NuGet.Versioning.dll", entries);
        Assert.Contains("tasks/net8.0/RepoLock.Tasks.pdb", entries);
        Assert.Contains("tasks/net8.0/RepoLock.Core.pdb", entries);
    }

    [Theory]
    [InlineData("RepoLock.Tasks")]
    [InlineData("RepoLock.Core")]
    public void The_task_and_the_core_ship_as_plain_IL_that_any_runtime_loads(string assembly)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(Package.Nupkg);
        using var copy = new MemoryStream();
        using (var entry = zip.GetEntry($"tasks/net8.0/{assembly}.dll")!.Open())
        {
            entry.CopyTo(copy);
        }

        copy.Position = 0;
        using var pe = new System.Reflection.PortableExecutable.PEReader(copy);
        var reader = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);

        // No ReadyToRun header: the images did not pay for their restore (see the README); the IL is what every runtime JIT-compiles.
        Assert.Equal(0, pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
        Assert.Equal(assembly, reader.GetString(reader.GetAssemblyDefinition().Name));
        Assert.Contains(reader.MethodDefinitions, m => reader.GetMethodDefinition(m).RelativeVirtualAddress != 0);
    }

    [Fact]
    public void The_props_and_targets_are_in_build_and_buildTransitive()
    {
        var entries = Package.Entries();

        Assert.Contains("build/RepoLock.Tasks.props", entries);
        Assert.Contains("build/RepoLock.Tasks.targets", entries);
        Assert.Contains("buildTransitive/RepoLock.Tasks.props", entries);
        Assert.Contains("buildTransitive/RepoLock.Tasks.targets", entries);
    }

    [Fact]
    public void Nothing_is_offered_to_compile_against()
    {
        var entries = Package.Entries();

        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) || e.StartsWith("ref/", StringComparison.Ordinal));
    }

    [Fact]
    public void The_nuspec_is_a_development_dependency_without_dependencies()
    {
        var metadata = Package.NuspecMetadata();
        var ns = metadata.Name.Namespace;

        Assert.Equal("true", metadata.Element(ns + "developmentDependency")?.Value);
        Assert.Null(metadata.Element(ns + "dependencies"));
        Assert.Equal(Package.Version, metadata.Element(ns + "version")?.Value);
    }

    [Fact]
    public void A_consumer_build_installs_its_adaptors_through_the_package()
    {
        var first = _fixture.First;

        Assert.True(first.ExitCode == 0, first.Stdout);
        AssertInstalled(first.Consumer.Repo!, AlphaAlias);
        AssertInstalled(first.Consumer.Repo!, BetaAlias);
    }

    [Fact]
    public void A_consumer_build_prints_the_summary_before_it_compiles()
    {
        var first = _fixture.First;

        var summary = Assert.Single(Consumer.Summaries(first.Stdout));
        Assert.Equal(new Summary(first.Consumer.Repo!, 2, 0, 2, 0), summary);
        var summaryAt = first.Stdout.IndexOf("RepoLock: 2 adaptor(s)", StringComparison.Ordinal);
        var compiledAt = first.Stdout.IndexOf("consumer -> ", StringComparison.Ordinal); // printed once CoreBuild has copied the assembly
        Assert.True(summaryAt >= 0 && compiledAt > summaryAt, first.Stdout);
    }

    [Fact]
    public void A_consumer_build_runs_the_task_with_the_NuGet_Versioning_from_the_package()
    {
        var first = _fixture.First;

        var load = first.DiagnosticLog.Split('\n').FirstOrDefault(l =>
            l.Contains("Assembly loaded during TaskRun (RepoLock.EnsureAdaptorsInstalled): NuGet.Versioning,", StringComparison.Ordinal));
        Assert.True(load is not null, "no load of NuGet.Versioning logged while the task ran");
        var shipped = Path.Combine(Package.NuGetPackages, "repolock.tasks", Package.Version, "tasks", "net8.0", "NuGet.Versioning.dll");
        Assert.Contains($"(location: {shipped},", load);
    }

    [Fact]
    public async Task Three_consumer_builds_at_once_install_each_adaptor_exactly_once()
    {
        string[] names = ["@fixture/language-one", "@fixture/language-two", "@fixture/language-three", "@fixture/language-four", "@fixture/language-five"];
        using var registry = FakeNpmRegistry.Start();
        registry.AddPackage("@fixture/dep-one", "1.2.0");
        foreach (var name in names)
        {
            registry.AddPackage(name, "1.0.0", new Dictionary<string, string> { ["@fixture/dep-one"] = "^1.0.0" });
        }

        registry.TarballLatency = TimeSpan.FromMilliseconds(300); // installs take long enough for the builds to meet on the locks
        var repo = Path.Combine(Package.NewDirectory("shared-repo-parent"), "repo");
        string[][] sets = [[names[0], names[1], names[2]], [names[1], names[2], names[3]], [names[0], names[3], names[4]]];
        var consumers = sets.Select((set, i) => new Consumer(Package, $"parallel-{i}", repo, registry.Url, set.Select(n => n + "@1.0.0").ToArray())).ToList();
        foreach (var consumer in consumers)
        {
            consumer.Restore();
        }

        // Start gate: the test holds every adaptor's lock until each build reports waiting on one, then lets them all go at once.
        var layout = new RepoLayout(repo);
        var locks = new LockService(new LockSettings());
        var gates = names.Select(n => locks.StartWaiting(layout.LockTarget(n + "_1.0.0"), "test").TryAcquire("the test's start gate")!).ToList();
        var builds = consumers.Select(c => c.StartBuild()).ToList();
        try
        {
            foreach (var build in builds)
            {
                await build.WaitForLineAsync("the test's start gate", PackedPackage.DotnetTimeout);
            }

            gates.ForEach(g => g.Dispose());
            var codes = await Task.WhenAll(builds.Select(b => b.WaitForExitAsync(PackedPackage.DotnetTimeout)));

            Assert.True(codes.All(c => c == 0), string.Join("\n----\n", builds.Select(b => b.Stdout)));
            foreach (var name in names)
            {
                AssertInstalled(repo, name + "_1.0.0");
                Assert.True(registry.TarballRequests(name) == 1, $"{name}: {registry.TarballRequests(name)} tarball downloads, not 1");
            }

            var summaries = builds.Select(b => Assert.Single(Consumer.Summaries(b.Stdout))).ToList();
            summaries.ForEach(s => _output.WriteLine(s.ToString()));
            Assert.Equal(names.Length, summaries.Sum(s => s.Installed));
            Assert.Equal(4, summaries.Sum(s => s.InstalledByPeer)); // the four adaptors two builds share: the second one waited on the first
            Assert.Equal(sets.Sum(s => s.Length), summaries.Sum(s => s.Installed + s.InstalledByPeer + s.AlreadyInstalled));

            var dependencies = JsonNode.Parse(File.ReadAllText(Path.Combine(repo, "package.json")))!["dependencies"]!.AsObject();
            Assert.Equal(names.Select(n => n + "_1.0.0").Order(), dependencies.Select(d => d.Key).Order());
            Assert.All(names, n => Assert.Equal($"npm:{n}@1.0.0", dependencies[n + "_1.0.0"]!.GetValue<string>()));

            var staging = Path.Combine(repo, ".staging");
            Assert.Empty(Directory.Exists(staging) ? Directory.EnumerateFileSystemEntries(staging) : []);
            Assert.DoesNotContain(Directory.EnumerateDirectories(Path.Combine(repo, ".locks"), "*", SearchOption.AllDirectories),
                d => d.EndsWith(".lock", StringComparison.Ordinal)); // every lock released
        }
        finally
        {
            gates.ForEach(g => g.Dispose());
            foreach (var build in builds)
            {
                build.Dispose();
            }
        }
    }
}
