using System.Text.RegularExpressions;
using System.Xml.Linq;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Package;

/// <summary>
/// A plain Microsoft.NET.Sdk class library (net10.0) that uses RepoLock.Tasks through a PackageReference, as a customer would:
/// a nuget.config with the test feed, its adaptors as Adaptor items, the shared repo in AdaptorRepoDir. Built by `dotnet` in a
/// child process, with a private npm cache so every npm install it runs shows up at the registry.
/// </summary>
internal sealed partial class Consumer
{
    private readonly PackedPackage _package;

    /// <param name="repo">The shared repo (AdaptorRepoDir), or null for the package's default in the output folder.</param>
    public Consumer(PackedPackage package, string name, string? repo, string registryUrl, params string[] adaptors)
    {
        _package = package;
        Directory = package.NewDirectory(name);
        Repo = repo;
        var project = new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"),
            new XElement("PropertyGroup",
                new XElement("TargetFramework", "net10.0"),
                new XComment(" csc in the build's own process: no compiler server outlives the test "),
                new XElement("UseSharedCompilation", "false"),
                repo is null ? null : new XElement("AdaptorRepoDir", repo),
                new XElement("RepoLockCreateRepoDir", "true"),
                new XElement("RepoLockRegistry", registryUrl)),
            new XElement("ItemGroup", new XElement("PackageReference", new XAttribute("Include", "RepoLock.Tasks"), new XAttribute("Version", package.Version))),
            new XElement("ItemGroup", adaptors.Select(a => new XElement("Adaptor", new XAttribute("Include", a)))));
        new XDocument(project).Save(Path.Combine(Directory, "consumer.csproj"));
        package.WriteNuGetConfig(Directory);
    }

    public string Directory { get; }

    public string? Repo { get; }

    /// <summary>Writes <paramref name="file"/> beside the project and adds <c>&lt;OpenFnProject Include="file" /&gt;</c>.</summary>
    public Consumer WithOpenFnProject(string file, string text)
    {
        File.WriteAllText(Path.Combine(Directory, file), text);
        var path = Path.Combine(Directory, "consumer.csproj");
        var project = XDocument.Load(path);
        project.Root!.Add(new XElement("ItemGroup", new XElement("OpenFnProject", new XAttribute("Include", file))));
        project.Save(path);
        return this;
    }

    /// <summary>`dotnet msbuild -getProperty:...` (evaluation only), its JSON answer; one property gives its bare value.</summary>
    public (int ExitCode, string Output) GetProperties(params string[] names) =>
        _package.Run(Directory, NpmEnvironment, ["msbuild", "consumer.csproj", .. names.Select(n => $"-getProperty:{n}")]);

    private Dictionary<string, string?> NpmEnvironment => new()
    {
        ["npm_config_cache"] = Path.Combine(Directory, "npm-cache"),
        ["npm_config_userconfig"] = Path.Combine(Directory, "no-such-npmrc"),
        ["npm_config_noproxy"] = "127.0.0.1,localhost",
    };

    public void Restore()
    {
        var (code, output) = _package.Run(Directory, NpmEnvironment, "restore", "-tl:off");
        Assert.True(code == 0, $"dotnet restore failed ({code}):\n{output}");
    }

    /// <summary>`dotnet build --no-restore`, started; the caller awaits it.</summary>
    public ChildProcess StartBuild(params string[] extraArgs) =>
        _package.Start(Directory, NpmEnvironment, ["build", "--no-restore", "-tl:off", .. extraArgs]);

    /// <summary>The RepoLock summary lines a build printed.</summary>
    public static IReadOnlyList<Summary> Summaries(string output) =>
        SummaryPattern().Matches(output).Select(m => new Summary(
            m.Groups["repo"].Value,
            int.Parse(m.Groups["total"].Value),
            int.Parse(m.Groups["already"].Value),
            int.Parse(m.Groups["installed"].Value),
            int.Parse(m.Groups["peer"].Value))).ToList();

    [GeneratedRegex(@"RepoLock: (?<total>\d+) adaptor\(s\) in (?<repo>.+?): (?<already>\d+) already installed, (?<installed>\d+) installed(?: \([^)]*\))?, (?<peer>\d+) installed by a peer")]
    private static partial Regex SummaryPattern();
}

internal sealed record Summary(string Repo, int Total, int AlreadyInstalled, int Installed, int InstalledByPeer);
