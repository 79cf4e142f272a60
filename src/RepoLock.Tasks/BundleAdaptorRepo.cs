using Microsoft.Build.Framework;
using RepoLock.Core;

namespace RepoLock;

/// <summary><c>&lt;BundleAdaptorRepo Repo="..." Adaptors="@(InstalledAdaptor)" Destination="..." Archive="....tar.gz" /&gt;</c></summary>
public sealed class BundleAdaptorRepo : Microsoft.Build.Utilities.Task
{
    [Required]
    public string Repo { get; set; } = "";

    [Required]
    public ITaskItem[] Adaptors { get; set; } = [];

    [Required]
    public string Destination { get; set; } = "";

    public string? Archive { get; set; }

    public override bool Execute()
    {
        var log = new MSBuildLog(Log);
        try
        {
            var specs = Adaptors.Select(a => AdaptorSpecifier.Parse(a.GetMetadata("Name") is { Length: > 0 } n ? n : a.ItemSpec, a.GetMetadata("Version"))).ToList();
            RepoBundle.Create(new RepoLayout(Repo), specs, Destination, string.IsNullOrWhiteSpace(Archive) ? null : Archive);
            log.Info($"RepoLock: bundled {specs.Count} adaptor(s) into {Destination}{(string.IsNullOrWhiteSpace(Archive) ? "" : $" and {Archive}")}.");
        }
        catch (RepoLockException e)
        {
            log.Error(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error(Errors.Io("bundle", Destination, e));
        }

        return !Log.HasLoggedErrors;
    }
}
