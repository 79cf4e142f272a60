using System.IO.Compression;
using System.Xml.Linq;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Package;

/// <summary>
/// Packs src/RepoLock.Tasks once per test run with a version no earlier run used, into a temporary feed, and keeps one
/// NUGET_PACKAGES folder for every consumer of the run (so the machine's own package folder is never touched).
/// </summary>
public sealed class PackedPackage : IDisposable
{
    public static readonly TimeSpan DotnetTimeout = TimeSpan.FromMinutes(5);

    private readonly TempDir _dir = new("pkg");

    public PackedPackage()
    {
        Version = $"0.0.0-test.{DateTime.UtcNow.Ticks}";
        Feed = _dir.Combine("feed");
        NuGetPackages = _dir.Combine("nuget-packages");
        Directory.CreateDirectory(NuGetPackages);

        // Its own artifacts folder: the pack neither reads nor overwrites the bin/obj of the build that runs these tests. NUGET_PACKAGES is
        // the machine's package folder without a trailing slash, as GitHub Actions' caching recipe sets it: the pack must not mind.
        var project = Path.Combine(TestPaths.RepoRoot, "src", "RepoLock.Tasks", "RepoLock.Tasks.csproj");
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var noSlash = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.TrimEndingDirectorySeparator(packages) };
        var (code, output) = Dotnet(TestPaths.RepoRoot, noSlash, "pack", project, "-c", "Release", $"-p:Version={Version}", "-o", Feed,
            "--artifacts-path", _dir.Combine("artifacts"), "-tl:off");
        Nupkg = Path.Combine(Feed, $"RepoLock.Tasks.{Version}.nupkg");
        if (code != 0 || !File.Exists(Nupkg))
        {
            throw new InvalidOperationException($"dotnet pack failed ({code}):\n{output}");
        }

        Sources = MachineSources();
    }

    public string Version { get; }

    public string Feed { get; }

    public string Nupkg { get; }

    /// <summary>The NUGET_PACKAGES folder every consumer of this run restores into.</summary>
    public string NuGetPackages { get; }

    /// <summary>The package sources this machine's NuGet configuration enables (nuget.org when it names none).</summary>
    public IReadOnlyList<string> Sources { get; }

    public string NewDirectory(string name)
    {
        var path = _dir.Combine(name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The package's file names, with forward slashes.</summary>
    public IReadOnlyList<string> Entries()
    {
        using var zip = ZipFile.OpenRead(Nupkg);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    public XElement NuspecMetadata()
    {
        using var zip = ZipFile.OpenRead(Nupkg);
        var nuspec = zip.Entries.Single(e => e.FullName == "RepoLock.Tasks.nuspec");
        using var stream = nuspec.Open();
        var root = XDocument.Load(stream).Root!;
        return root.Element(root.Name.Namespace + "metadata")!;
    }

    /// <summary>A nuget.config with the test feed first, then the machine's sources.</summary>
    public void WriteNuGetConfig(string directory)
    {
        var sources = new XElement("packageSources", new XElement("clear"),
            new XElement("add", new XAttribute("key", "repolock-test-feed"), new XAttribute("value", Feed)));
        for (var i = 0; i < Sources.Count; i++)
        {
            sources.Add(new XElement("add", new XAttribute("key", $"machine-source-{i}"), new XAttribute("value", Sources[i])));
        }

        new XDocument(new XElement("configuration", sources)).Save(Path.Combine(directory, "nuget.config"));
    }

    /// <summary>Runs dotnet to the end with NUGET_PACKAGES set to this run's folder (plus <paramref name="env"/>).</summary>
    public (int ExitCode, string Output) Run(string workingDir, IDictionary<string, string?>? env, params string[] args) =>
        Dotnet(workingDir, ConsumerEnvironment(env), args);

    /// <summary>Starts dotnet with NUGET_PACKAGES set to this run's folder (plus <paramref name="env"/>).</summary>
    public ChildProcess Start(string workingDir, IDictionary<string, string?>? env, params string[] args) =>
        ChildProcess.Start("dotnet", args, workingDir, ConsumerEnvironment(env));

    /// <summary>This run's NUGET_PACKAGES for a consumer.</summary>
    /// <remarks>ChildProcess leaves out the MSBuild locations the in-process tests' locator put in this process's environment.</remarks>
    private Dictionary<string, string?> ConsumerEnvironment(IDictionary<string, string?>? env) =>
        new(env ?? new Dictionary<string, string?>()) { ["NUGET_PACKAGES"] = NuGetPackages };

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Output) Dotnet(string workingDir, IDictionary<string, string?>? env, params string[] args)
    {
        using var child = ChildProcess.Start("dotnet", args, workingDir, env);
        var code = child.WaitForExitAsync(DotnetTimeout).GetAwaiter().GetResult();
        return (code, child.Output);
    }

    /// <summary>`dotnet nuget list source --format short` prints "E url" for each enabled source.</summary>
    private List<string> MachineSources()
    {
        var (code, output) = Dotnet(_dir.Path, null, "nuget", "list", "source", "--format", "short");
        var sources = code != 0
            ? []
            : output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Where(l => l.StartsWith("E ", StringComparison.Ordinal))
                .Select(l => l[2..].Trim())
                .ToList();
        return sources.Count > 0 ? sources : ["https://api.nuget.org/v3/index.json"];
    }
}
