using Microsoft.Build.Framework;
using RepoLock.Core;

namespace RepoLock;

/// <summary><c>&lt;BundleAdaptorRepo Repo="..." Adaptors="@(InstalledAdaptor)" Destination="..." Archive="....tar.gz" /&gt;</c>: thin glue over <see cref="RepoBundle"/>.</summary>
public sealed class BundleAdaptorRepo : Microsoft.Build.Utilities.Task
{
    /// <summary>The filled OpenFn repo (<c>AdaptorRepoDir</c>).</summary>
    [Required]
    public string Repo { get; set; } = "";

    /// <summary>The adaptors to bundle (<c>@(InstalledAdaptor)</c>): <c>Name</c> and <c>Version</c> metadata, or <c>name@version</c>.</summary>
    [Required]
    public ITaskItem[] Adaptors { get; set; } = [];

    /// <summary>The bundle folder (<c>RepoLockBundleDir</c>).</summary>
    [Required]
    public string Destination { get; set; } = "";

    /// <summary>The .tar.gz to write (<c>RepoLockBundleArchive</c>); empty for none.</summary>
    public string? Archive { get; set; }

    /// <summary><c>RepoLockVerifyOnBundle</c>: check each adaptor's files against its install digest; empty for the default (true).</summary>
    public string? VerifyOnBundle { get; set; }

    /// <summary><c>RepoLockVerifyAgainstRegistry</c>: check what no install digest covers against the published tarballs; empty for the default (false).</summary>
    public string? VerifyAgainstRegistry { get; set; }

    /// <summary><c>RepoLockOffline</c>: the registry check reads npm's cache only.</summary>
    public string? Offline { get; set; }

    /// <summary><c>RepoLockRegistry</c>: the registry for the check; empty for npm's configuration.</summary>
    public string? Registry { get; set; }

    /// <summary><c>RepoLockNpmPath</c>: the npm executable for the check.</summary>
    public string? NpmPath { get; set; }

    /// <summary><c>$(SOURCE_DATE_EPOCH)</c> (a property or the environment variable): the archive entries' time; empty for the default.</summary>
    public string? SourceDateEpoch { get; set; }

    /// <inheritdoc />
    public override bool Execute()
    {
        var log = new MSBuildLog(Log);
        try
        {
            var specs = Adaptors.Select(a => AdaptorSpecifier.Parse(a.GetMetadata("Name") is { Length: > 0 } n ? n : a.ItemSpec, a.GetMetadata("Version"))).ToList();
            var settings = RepoLockSettings.FromProperties(new Dictionary<string, string?>
            {
                ["RepoLockVerifyOnBundle"] = VerifyOnBundle,
                ["RepoLockOffline"] = Offline,
                ["RepoLockRegistry"] = Registry,
                ["RepoLockNpmPath"] = NpmPath,
            }) with { SourceDateEpoch = SourceDateEpoch, VerifyAgainstRegistry = string.Equals(VerifyAgainstRegistry?.Trim(), "true", StringComparison.OrdinalIgnoreCase) };
            RepoBundle.Create(Repo, specs, Destination, string.IsNullOrWhiteSpace(Archive) ? null : Archive, settings, log);
            log.Info($"RepoLock: bundled {specs.Count} adaptor(s) into {Destination}{(string.IsNullOrWhiteSpace(Archive) ? "" : $" and {Archive}")}.");
        }
        catch (RepoLockException e)
        {
            log.Error(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error(new RepoLockException(ErrorCodes.BundleIoFailure, $"The bundle could not be written to {Destination}: {e.Message}. Free disk space or fix permissions, then publish again.", e));
        }

        return !Log.HasLoggedErrors;
    }
}
