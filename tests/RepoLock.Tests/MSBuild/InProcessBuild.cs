using Microsoft.Build.Evaluation;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// Builds a project file in this process with <see cref="BuildManager.DefaultBuildManager"/>, as `dotnet build` would in its
/// in-proc node. Only for tests in <see cref="MSBuildCollection"/>: it sets process-wide environment variables for the build.
/// </summary>
internal static class InProcessBuild
{
    public static BuildRun Run(string projectPath, IReadOnlyDictionary<string, string>? globalProperties = null, string[]? targets = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var globals = new Dictionary<string, string>(globalProperties ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var saved = new Dictionary<string, string?>();
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        try
        {
            var logger = new CollectingLogger();
            using var collection = new ProjectCollection(globals);
            // BuildParameters captures the process environment here: after the variables above are set.
            var parameters = new BuildParameters(collection)
            {
                Loggers = [logger],
                EnableNodeReuse = false,
                MaxNodeCount = 1,
                DisableInProcNode = false,
                ResetCaches = true,
            };
            var request = new BuildRequestData(projectPath, globals, null, targets ?? ["Build"], null,
                BuildRequestDataFlags.ProvideProjectStateAfterBuild | BuildRequestDataFlags.ClearCachesAfterBuild);
            var result = BuildManager.DefaultBuildManager.Build(parameters, request);
            return new BuildRun(result, logger);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}

internal sealed record BuildRun(BuildResult Result, CollectingLogger Log)
{
    public bool Succeeded => Result.OverallResult == BuildResultCode.Success;

    public ProjectInstance State => Result.ProjectStateAfterBuild ?? throw new InvalidOperationException("no project state after the build");

    public IReadOnlyList<ProjectItemInstance> Items(string itemType) => State.GetItems(itemType).ToList();

    /// <summary>A target requested by name: its result code and the items its Returns attribute gave; null if it was not requested.</summary>
    public TargetResult? Target(string name) => Result.ResultsByTarget.TryGetValue(name, out var r) ? r : null;

    public override string ToString() => $"{Result.OverallResult}{Environment.NewLine}{Log.Transcript}";
}
