using System.CommandLine;
using RepoLock.Core;
using System.CommandLine.Parsing;
using RepoLock.Tool.Commands;

namespace RepoLock.Tool;

/// <summary>
/// The <c>repolock</c> command line: System.CommandLine parses, gives help (<c>-h</c>) and completions (<c>[suggest]</c>); each command
/// calls the core once and prints a table or JSON. Exit codes: 0 fine, 1 problems found or the operation failed, 2 usage error or refused.
/// </summary>
internal static class RepoLockCli
{
    public const int Fine = 0;
    public const int Problems = 1;
    public const int Refused = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Operate a shared OpenFn adaptor repo: see, verify, fill, unlock and prune it, safely while builds run.");
        root.Options.Add(CommonOptions.Repo);
        root.Options.Add(CommonOptions.Json);
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(InstallCommand.Create());
        root.Subcommands.Add(UnlockCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());

        // No response files: '@scope/name@1.0.0' is an npm specifier, never '@file'.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"repolock: {Describe(error)}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'repolock --help' for usage.").ConfigureAwait(false);
            return Refused;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (RepoLockException e)
        {
            await Console.Error.WriteLineAsync($"repolock: error {e.Code}: {e.Message}").ConfigureAwait(false);
            return IsUsage(e.Code) ? Refused : Problems;
        }
    }

    /// <summary>A parse error in the operator's words: the option and the form it expects, never a .NET type name.</summary>
    internal static string Describe(ParseError error)
    {
        if (error.SymbolResult is not System.CommandLine.Parsing.OptionResult { Option: var option } result
            || !error.Message.Contains("expected type", StringComparison.Ordinal))
        {
            return error.Message;
        }

        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        var form = type == typeof(int) ? "a whole number" : type == typeof(double) ? "a number" : type == typeof(bool) ? "true or false" : "a value";
        var unit = option.HelpName is { Length: > 0 } help && type != typeof(bool) ? $" of {help}" : "";
        var given = string.Join(' ', result.Tokens.Select(t => t.Value));
        return $"{option.Name}: '{given}' is not {form}{unit}; expected {option.Name} <{option.HelpName ?? "value"}> (for example {option.Name} {(type == typeof(bool) ? "true" : "30")}).";
    }

    /// <summary>Bad input on the command line (a specifier, an option value, no repo, a keep list) and refusals are usage errors: exit 2.</summary>
    private static bool IsUsage(string code) => code is ErrorCodes.InvalidName or ErrorCodes.InvalidVersion or ErrorCodes.ConflictingVersion
        or ErrorCodes.InvalidSetting or ErrorCodes.InvalidRepo or ErrorCodes.NoRepo or ErrorCodes.UnlockRefused or ErrorCodes.BadKeepList
        or ErrorCodes.NothingKept or ErrorCodes.KeepUnmatched or ErrorCodes.ProjectFileMissing or ErrorCodes.NotAProjectFile or ErrorCodes.PathAdaptor or ErrorCodes.ProjectConflictsWithItem;
}
