using RepoLock.Core;

namespace RepoLock.Tool;

/// <summary>The messages of the tool's own coded errors (codes in <see cref="ErrorCodes"/>; the core writes RL7002, the unlock refusal).</summary>
internal static class ToolErrors
{
    public static RepoLockException NoRepo() => new(ErrorCodes.NoRepo,
        $"No repo given. Pass --repo <dir> or set {CommonOptions.RepoVariable} to the OpenFn repo folder. Nothing was read or written.");

    public static RepoLockException BadKeepList(string file, string detail) => new(ErrorCodes.BadKeepList,
        $"Keep list {file}: {detail}. Write one specifier per line (name@version, or name@latest to keep every version), '#' starts a comment. Nothing was removed.");

    public static RepoLockException NothingKept() => new(ErrorCodes.NothingKept,
        "prune was given nothing to keep, so it would remove every adaptor. Pass --keep <spec>..., --keep-file <file> or --keep-from <project.yaml> (an empty file keeps nothing, on purpose). Nothing was removed.");

    public static RepoLockException KeepUnmatched(IEnumerable<string> entries) => new(ErrorCodes.KeepUnmatched,
        $"prune: keep entr{(entries.Count() == 1 ? "y" : "ies")} {string.Join(", ", entries.Select(e => $"'{e}'"))} match{(entries.Count() == 1 ? "es" : "")} nothing installed " +
        "(a typo would remove what you meant to keep). Fix the entry, or pass --allow-unmatched if it is meant to keep nothing now. Nothing was removed.");
}
