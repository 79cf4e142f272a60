using System.CommandLine;
using RepoLock.Core;

namespace RepoLock.Tool;

/// <summary>The options every command takes: the repo and the output format.</summary>
internal static class CommonOptions
{
    public const string RepoVariable = "REPOLOCK_REPO";

    public static readonly Option<string?> Repo = new("--repo")
    {
        Description = $"The OpenFn repo folder (default: ${RepoVariable}).",
        Recursive = true,
        HelpName = "dir",
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for machines instead of a table.",
        Recursive = true,
    };

    public static readonly Option<int?> StaleAge = new("--stale-age")
    {
        Description = "Seconds without a refresh after which a lock may be broken (as RepoLockStaleAge; default 300).",
        HelpName = "seconds",
    };

    /// <summary>The repo from <c>--repo</c>, else <c>REPOLOCK_REPO</c>; RL7001 without either.</summary>
    public static string RepoOf(ParseResult parsed) =>
        parsed.GetValue(Repo) is { Length: > 0 } repo ? repo
        : Environment.GetEnvironmentVariable(RepoVariable) is { Length: > 0 } env ? env
        : throw ToolErrors.NoRepo();

    /// <summary>Settings from the command's options, validated by the core exactly as the build's properties are.</summary>
    public static RepoLockSettings Settings(ParseResult parsed, IDictionary<string, string?>? more = null)
    {
        var properties = new Dictionary<string, string?>(more ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
        if (parsed.CommandResult.Command.Options.Contains(StaleAge) && parsed.GetValue(StaleAge) is { } stale)
        {
            properties["RepoLockStaleAge"] = stale.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return RepoLockSettings.FromProperties(properties);
    }
}
