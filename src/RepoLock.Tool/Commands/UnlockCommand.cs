using System.CommandLine;
using RepoLock.Core;
using RepoLock.Tool.Output;

namespace RepoLock.Tool.Commands;

/// <summary>
/// <c>repolock unlock &lt;spec-or-alias&gt; [--force]</c>: removes a lock only when the waiters' rules judge its holder dead, through the same
/// break path waiters use; otherwise prints the holder and refuses (exit 2). <c>--force</c> prints the holder and the risk, then breaks it.
/// </summary>
internal static class UnlockCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("spec-or-alias") { Description = "name@version, the alias name_version, or package.json for the manifest's lock." };
        var force = new Option<bool>("--force") { Description = "Break the lock whatever its holder's verdict (after printing the holder and the risk)." };
        var command = new Command("unlock", "Remove a lock whose holder is judged dead by the rules waiters use; refuse otherwise.");
        command.Arguments.Add(target);
        command.Options.Add(force);
        command.Options.Add(CommonOptions.StaleAge);
        command.SetAction(parsed =>
        {
            var repo = CommonOptions.RepoOf(parsed);
            var settings = CommonOptions.Settings(parsed);
            var alias = AliasOf(parsed.GetValue(target)!);
            var json = parsed.GetValue(CommonOptions.Json);
            var forced = parsed.GetValue(force);
            var held = new RepoInspector(repo, settings).FindLock(alias);
            if (held is null)
            {
                Report(json, null, removed: false, refused: false, $"{alias} is not locked; nothing to do.");
                return RepoLockCli.Fine;
            }

            var text = json ? Console.Error : Console.Out;
            text.WriteLine($"Lock {held.LockDir}: held by {held.Holder}; judged {held.Verdict.ToString().ToLowerInvariant()}: {held.Why}.");
            if (forced && held.Verdict != LockVerdict.Dead)
            {
                text.WriteLine("--force: breaking a lock whose holder is not judged dead. If that holder is still working, it stops with RL2002 before " +
                               "changing the repo, or a second installer runs alongside it; the repo stays consistent, but that install is lost.");
            }

            try
            {
                var removed = new RepoMaintenance(repo, settings).Unlock(alias, forced);
                Report(json, held, removed, refused: false, removed ? $"Removed the lock {held.LockDir}." : $"The lock {held.LockDir} was released meanwhile.");
                return RepoLockCli.Fine;
            }
            catch (RepoLockException e) when (e.Code == ErrorCodes.UnlockRefused)
            {
                Report(json, held, removed: false, refused: true, null);
                Console.Error.WriteLine($"repolock: error {e.Code}: {e.Message}");
                return RepoLockCli.Refused;
            }
        });
        return command;
    }

    /// <summary><c>package.json</c>, an exact <c>name@version</c>, or an alias <c>name_version</c>, as the alias of its lock.</summary>
    internal static string AliasOf(string text)
    {
        if (text == "package.json")
        {
            return text;
        }

        var cut = text.LastIndexOf('_');
        var spec = text.IndexOf('@', 1) < 0 && cut > 0 ? AdaptorSpecifier.Parse(text[..cut] + "@" + text[(cut + 1)..], itemForMessages: text) : AdaptorSpecifier.Parse(text);
        return spec.IsExact
            ? spec.Alias
            : throw new RepoLockException(ErrorCodes.InvalidVersion, $"Adaptor '{text}': a lock belongs to one exact version; give name@version or the alias name_version. Nothing was changed.");
    }

    private static void Report(bool json, LockInfo? held, bool removed, bool refused, string? line)
    {
        if (json)
        {
            Show.Json(new { @lock = held, removed, refused });
        }
        else if (line is not null)
        {
            Console.Out.WriteLine(line);
        }
    }
}
