using System.Xml.Linq;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// Writes a project that imports the real build/RepoLock.Tasks.props and .targets, with the task assembly overridden to the freshly
/// built RepoLock.Tasks.dll, exactly as the package and the sample import them.
/// </summary>
/// <remarks>
/// Two hosts. <see cref="HostKind.BuildChain"/> has no SDK: empty stand-ins for Microsoft.Common's <c>Build</c> chain (the same
/// targets and DependsOnTargets, down to ResolveReferences, BeforeCompile, CoreCompile and CopyFilesToOutputDirectory) and the SDK's
/// output folder, so <c>Build</c> runs in this process without a NuGet restore. The in-process restore of a real SDK
/// project cannot run here: the test host already binds the task's NuGet.Versioning (6.x) from its own deps.json, and the SDK's restore
/// tasks then fail to load their newer NuGet.Versioning. <see cref="HostKind.Sdk"/> is a real Microsoft.NET.Sdk project, evaluated with
/// all the SDK's properties; tests on it run the RepoLock target by name, which needs no restore. The package tests build a real SDK
/// project end to end in a child process.
/// </remarks>
internal sealed class AdaptorProject
{
    private readonly List<XElement> _adaptors = [];
    private readonly Dictionary<string, string> _properties = new(StringComparer.Ordinal);

    public AdaptorProject(string directory, string registryUrl, HostKind host = HostKind.BuildChain)
    {
        Directory = directory;
        Host = host;
        _properties["RepoLockTaskAssembly"] = TestPaths.TaskDll;
        _properties["RepoLockRegistry"] = registryUrl;
    }

    public string Directory { get; }

    public HostKind Host { get; }

    /// <summary>The project file: consumer.csproj for the SDK host, consumer.proj otherwise.</summary>
    public string Path => System.IO.Path.Combine(Directory, Host == HostKind.Sdk ? "consumer.csproj" : "consumer.proj");

    /// <summary><c>&lt;Adaptor Include="..." /&gt;</c>, with Version metadata when <paramref name="version"/> is given.</summary>
    public AdaptorProject Adaptor(string include, string? version = null)
    {
        var item = new XElement("Adaptor", new XAttribute("Include", include));
        if (version is not null)
        {
            item.Add(new XAttribute("Version", version));
        }

        _adaptors.Add(item);
        return this;
    }

    /// <summary><c>&lt;OpenFnProject Include="..." /&gt;</c>.</summary>
    public AdaptorProject OpenFnProject(string include)
    {
        _adaptors.Add(new XElement("OpenFnProject", new XAttribute("Include", include)));
        return this;
    }

    public AdaptorProject Property(string name, string value)
    {
        _properties[name] = value;
        return this;
    }

    public string Write()
    {
        // The imports in a package consumer's order: the SDK's props, the package's props, the project, the SDK's output paths (which
        // Microsoft.NET.Sdk sets in its targets, before NuGet imports a package's targets), the package's targets.
        var project = new XElement("Project");
        var properties = new XElement("PropertyGroup", _properties.Select(p => new XElement(p.Key, p.Value)));
        if (Host == HostKind.Sdk)
        {
            project.Add(new XElement("Import", new XAttribute("Project", "Sdk.props"), new XAttribute("Sdk", "Microsoft.NET.Sdk")));
            properties.Add(new XElement("TargetFramework", "net10.0"));
        }

        project.Add(properties);
        project.Add(new XElement("Import", new XAttribute("Project", TestPaths.BuildProps)));
        project.Add(new XElement("ItemGroup", _adaptors));
        if (Host == HostKind.Sdk)
        {
            project.Add(new XElement("Import", new XAttribute("Project", "Sdk.targets"), new XAttribute("Sdk", "Microsoft.NET.Sdk")));
        }
        else
        {
            project.Add(
                new XElement("PropertyGroup",
                    new XElement("Configuration", new XAttribute("Condition", "'$(Configuration)' == ''"), "Debug"),
                    new XElement("OutputPath", new XAttribute("Condition", "'$(OutputPath)' == ''"), @"bin\$(Configuration)\net10.0\"),
                    new XElement("PublishDir", new XAttribute("Condition", "'$(PublishDir)' == ''"), @"$(OutputPath)publish\")));
        }

        project.Add(new XElement("Import", new XAttribute("Project", TestPaths.BuildTargets)));
        if (Host == HostKind.BuildChain)
        {
            // The shape of Microsoft.Common.CurrentVersion.targets' chain, its work in DependsOnTargets as there, and its OutDir.
            project.Add(
                new XElement("PropertyGroup",
                    new XElement("OutDir", new XAttribute("Condition", "'$(OutDir)' == ''"), "$(OutputPath)")),
                EmptyTarget("Publish", "Build"),
                EmptyTarget("Build", "BeforeBuild;CoreBuild;AfterBuild"),
                EmptyTarget("BeforeBuild"),
                EmptyTarget("CoreBuild", "PrepareForBuild;ResolveReferences;Compile;PrepareForRun"),
                EmptyTarget("PrepareForBuild"),
                EmptyTarget("ResolveReferences"),
                EmptyTarget("Compile", "ResolveReferences;BeforeCompile;CoreCompile;AfterCompile"),
                EmptyTarget("BeforeCompile"),
                EmptyTarget("CoreCompile"),
                EmptyTarget("AfterCompile"),
                EmptyTarget("PrepareForRun", "CopyFilesToOutputDirectory"),
                EmptyTarget("CopyFilesToOutputDirectory"),
                EmptyTarget("AfterBuild"));
        }

        System.IO.Directory.CreateDirectory(Directory);
        new XDocument(project).Save(Path);
        return Path;
    }

    private static XElement EmptyTarget(string name, string? dependsOn = null)
    {
        var target = new XElement("Target", new XAttribute("Name", name));
        if (dependsOn is not null)
        {
            target.Add(new XAttribute("DependsOnTargets", dependsOn));
        }

        return target;
    }
}

internal enum HostKind
{
    /// <summary>No SDK: stand-ins for Microsoft.Common's Build chain that build in this process without restore.</summary>
    BuildChain,

    /// <summary>A real Microsoft.NET.Sdk project (net10.0); only RepoLock's own targets can be built in this process.</summary>
    Sdk,
}
