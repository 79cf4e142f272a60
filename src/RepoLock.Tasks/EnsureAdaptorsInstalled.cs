using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using RepoLock.Core;

namespace RepoLock;

/// <summary>
/// <c>&lt;EnsureAdaptorsInstalled Repo="..." Adaptors="@(Adaptor)" /&gt;</c>: thin MSBuild glue over <see cref="AdaptorRepo"/>.
/// Items in, plain values to the core (which owns defaults, validation and dist-tag resolution), results back out as
/// <c>InstalledAdaptor</c> items.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "MSBuild never disposes a task; a CancellationTokenSource without a timer holds nothing that needs disposing.")]
public sealed class EnsureAdaptorsInstalled : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The OpenFn repo folder (<c>AdaptorRepoDir</c>).</summary>
    [Required]
    public string Repo { get; set; } = "";

    /// <summary>The <c>Adaptor</c> items: <c>name@version</c>, <c>name@tag</c>, or a name with <c>Version</c> metadata.</summary>
    public ITaskItem[] Adaptors { get; set; } = [];

    /// <summary>The <c>OpenFnProject</c> items: OpenFn project files (<c>project.yaml</c>) or CLI workflows whose jobs name adaptors.</summary>
    public ITaskItem[] Projects { get; set; } = [];

    /// <summary>The project being built (<c>MSBuildProjectFullPath</c>): errors not about one item or file name it, not the targets.</summary>
    public string? ProjectFile { get; set; }

    /// <summary><c>RepoLockLockTimeout</c>, seconds; empty for the default.</summary>
    public string? LockTimeout { get; set; }

    /// <summary><c>RepoLockStaleAge</c>, seconds; empty for the default.</summary>
    public string? StaleAge { get; set; }

    /// <summary><c>RepoLockInstallTimeout</c>, seconds; empty for the default.</summary>
    public string? InstallTimeout { get; set; }

    /// <summary><c>RepoLockMaxParallel</c>; empty for the default.</summary>
    public string? MaxParallel { get; set; }

    /// <summary><c>RepoLockNpmPath</c>; empty for npm on PATH.</summary>
    public string? NpmPath { get; set; }

    /// <summary><c>RepoLockRegistry</c>; empty for npm's own configuration.</summary>
    public string? Registry { get; set; }

    /// <summary><c>RepoLockOffline</c>: <c>true</c> installs from npm's cache only.</summary>
    public string? Offline { get; set; }

    /// <summary><c>RepoLockCreateRepoDir</c>: <c>true</c> creates a missing repo folder (the targets set it for the default repo).</summary>
    public string? CreateRepoDir { get; set; }

    /// <summary><c>RepoLockIgnoreScripts</c>: <c>false</c> lets npm run the packages' install scripts.</summary>
    public string? IgnoreScripts { get; set; }

    /// <summary>One item per adaptor, with <c>Name</c>, <c>Version</c>, <c>Alias</c>, <c>Path</c>, <c>Sentinel</c>, <c>Outcome</c>, <c>DurationMs</c>.</summary>
    [Output]
    public ITaskItem[] InstalledAdaptors { get; private set; } = [];

    /// <inheritdoc />
    public void Cancel() => _cancel.Cancel();

    /// <inheritdoc />
    public override bool Execute()
    {
        var log = new MSBuildLog(Log, ProjectFile);
        var list = new AdaptorList();
        try
        {
            var settings = RepoLockSettings.FromProperties(new Dictionary<string, string?>
            {
                ["RepoLockLockTimeout"] = LockTimeout,
                ["RepoLockStaleAge"] = StaleAge,
                ["RepoLockInstallTimeout"] = InstallTimeout,
                ["RepoLockMaxParallel"] = MaxParallel,
                ["RepoLockNpmPath"] = NpmPath,
                ["RepoLockRegistry"] = Registry,
                ["RepoLockOffline"] = Offline,
                ["RepoLockCreateRepoDir"] = CreateRepoDir,
                ["RepoLockIgnoreScripts"] = IgnoreScripts,
            });
            foreach (var item in Adaptors)
            {
                list.AddItem(item.ItemSpec, item.GetMetadata("Version"), item.GetMetadata("DefiningProjectFullPath"));
            }

            foreach (var project in Projects)
            {
                list.AddProjectFile(project.GetMetadata("FullPath"));
            }

            foreach (var error in list.Errors)
            {
                log.Error(error);
            }

            if (Log.HasLoggedErrors)
            {
                return false; // bad input: nothing written anywhere
            }

            var specs = list.Adaptors;
            var result = new AdaptorRepo(Repo, settings, log).EnsureInstalledAsync(specs, _cancel.Token).GetAwaiter().GetResult();
            foreach (var failure in result.Failures)
            {
                log.Error(list.Locate(failure)); // at the item's defining project, or the project file's line and column
            }

            InstalledAdaptors = result.Adaptors.Select(ToItem).ToArray();
        }
        catch (RepoLockException e)
        {
            log.Error(list.Locate(e));
        }

        return !Log.HasLoggedErrors;
    }

    private static TaskItem ToItem(AdaptorResult r)
    {
        var item = new TaskItem(r.Adaptor.ToString());
        item.SetMetadata("Name", r.Adaptor.Name);
        item.SetMetadata("Version", r.Adaptor.VersionText);
        item.SetMetadata("Alias", r.Adaptor.Alias);
        item.SetMetadata("Path", r.AdaptorPath);
        item.SetMetadata("Sentinel", r.SentinelPath);
        item.SetMetadata("Outcome", r.Outcome.ToString());
        item.SetMetadata("DurationMs", ((long)r.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        return item;
    }
}
