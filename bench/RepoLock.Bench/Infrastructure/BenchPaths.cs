using System.Reflection;
using System.Text.Json.Nodes;

namespace RepoLock.Bench.Infrastructure;

/// <summary>Where things are: the repository, the task dll child builds load, the TestHost, the outputs.</summary>
public sealed class BenchPaths
{
    private BenchPaths(string repoRoot)
    {
        RepoRoot = repoRoot;
    }

    public string RepoRoot { get; }

    public string Props => Path.Combine(RepoRoot, "build", "RepoLock.Tasks.props");

    public string Targets => Path.Combine(RepoRoot, "build", "RepoLock.Tasks.targets");

    /// <summary>The freshly built task (src/RepoLock.Tasks/bin/&lt;Configuration&gt;/net8.0), with NuGet.Versioning next to it.</summary>
    public string TaskDll { get; private init; } = "";

    public string TestHostDll => Path.Combine(AppContext.BaseDirectory, "RepoLock.TestHost.dll");

    public string BenchDll => Path.Combine(AppContext.BaseDirectory, "RepoLock.Bench.dll");

    public string ResultsDir => Path.Combine(RepoRoot, "bench", "results");

    public string DocsDir => Path.Combine(RepoRoot, "docs");

    /// <summary>The Microsoft.Build.NoTargets version the repository's global.json pins (the sample uses it too).</summary>
    public string NoTargetsVersion
    {
        get
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot, "global.json")));
            return json?["msbuild-sdks"]?["Microsoft.Build.NoTargets"]?.GetValue<string>() ?? "3.7.0";
        }
    }

    public static BenchPaths Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RepoLock.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException($"RepoLock.sln not found above {AppContext.BaseDirectory}: run the bench from the repository.");
        }

        var taskDir = typeof(BenchPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoLockTaskDir")?.Value;
        var taskDll = taskDir is not null && File.Exists(Path.Combine(taskDir, "RepoLock.Tasks.dll"))
            ? Path.Combine(taskDir, "RepoLock.Tasks.dll")
            : Path.Combine(AppContext.BaseDirectory, "RepoLock.Tasks.dll");
        return new BenchPaths(dir.FullName) { TaskDll = taskDll };
    }
}
