using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using RepoLock.Core;

namespace RepoLock;

/// <summary>
/// <c>&lt;EnsureAdaptorsInstalled Repo="..." Adaptors="@(Adaptor)" /&gt;</c>: thin MSBuild glue over <see cref="AdaptorRepo"/>.
/// Items in, plain values to the core, results back out as <c>InstalledAdaptor</c> items.
/// </summary>
public sealed class EnsureAdaptorsInstalled : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    [Required]
    public string Repo { get; set; } = "";

    [Required]
    public ITaskItem[] Adaptors { get; set; } = [];

    public int LockTimeoutSeconds { get; set; } = 900;

    public int StaleAgeSeconds { get; set; } = 300;

    public int InstallTimeoutSeconds { get; set; } = 600;

    public int MaxParallel { get; set; } = 4;

    public string? NpmPath { get; set; }

    public string? Registry { get; set; }

    public bool Offline { get; set; }

    [Output]
    public ITaskItem[] InstalledAdaptors { get; private set; } = [];

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        var log = new MSBuildLog(Log);
        try
        {
            var settings = Settings();
            var layout = new RepoLayout(Repo);
            var specs = new List<AdaptorSpecifier>();
            foreach (var item in Adaptors)
            {
                try
                {
                    specs.Add(AdaptorSpecifier.Parse(item.ItemSpec, item.GetMetadata("Version")));
                }
                catch (RepoLockException e)
                {
                    log.Error(e);
                }
            }

            if (Log.HasLoggedErrors)
            {
                return false; // bad input: nothing written anywhere
            }

            var repo = new AdaptorRepo(layout, settings, log);
            var resolved = repo.ResolveAsync(specs, _cancel.Token).GetAwaiter().GetResult();
            var result = repo.EnsureInstalledAsync(resolved, _cancel.Token).GetAwaiter().GetResult();
            foreach (var failure in result.Failures)
            {
                log.Error(failure);
            }

            InstalledAdaptors = result.Adaptors.Select(ToItem).ToArray();
        }
        catch (RepoLockException e)
        {
            log.Error(e);
        }

        return !Log.HasLoggedErrors;
    }

    private RepoLockSettings Settings()
    {
        static TimeSpan Seconds(string name, int value, int min) =>
            value >= min ? TimeSpan.FromSeconds(value) : throw Errors.Setting(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture), $"a whole number of seconds, at least {min}");

        if (MaxParallel < 1)
        {
            throw Errors.Setting("RepoLockMaxParallel", MaxParallel.ToString(System.Globalization.CultureInfo.InvariantCulture), "a number of at least 1");
        }

        var checkpointDir = Environment.GetEnvironmentVariable("REPOLOCK_TEST_CHECKPOINT_DIR");
        return new RepoLockSettings
        {
            Lock = new LockSettings
            {
                Timeout = Seconds("RepoLockLockTimeout", LockTimeoutSeconds, 0),
                StaleAge = Seconds("RepoLockStaleAge", StaleAgeSeconds, 2),
            },
            Npm = new NpmSettings
            {
                NpmPath = string.IsNullOrWhiteSpace(NpmPath) ? new NpmSettings().NpmPath : NpmPath,
                Registry = string.IsNullOrWhiteSpace(Registry) ? null : Registry,
                Offline = Offline,
                InstallTimeout = Seconds("RepoLockInstallTimeout", InstallTimeoutSeconds, 1),
            },
            MaxParallel = MaxParallel,
            Checkpoint = string.IsNullOrEmpty(checkpointDir) ? null : (point, _) => TestCheckpoint.Reach(checkpointDir, point),
        };
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
        item.SetMetadata("DurationMs", ((long)r.Duration.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return item;
    }
}

/// <summary>The core's log, on MSBuild's logger: info at normal importance, coded warnings and errors.</summary>
internal sealed class MSBuildLog : IRepoLockLog
{
    private readonly TaskLoggingHelper _log;

    public MSBuildLog(TaskLoggingHelper log) => _log = log;

    public void Info(string message) => _log.LogMessage(MessageImportance.High, message);

    public void Detail(string message) => _log.LogMessage(MessageImportance.Low, message);

    public void Warning(string code, string message) => _log.LogWarning(null, code, null, null, 0, 0, 0, 0, message);

    public void Error(RepoLockException e) => _log.LogError(null, e.Code, null, null, 0, 0, 0, 0, e.Message);
}
