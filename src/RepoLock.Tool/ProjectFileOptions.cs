using RepoLock.Core;

namespace RepoLock.Tool;

/// <summary>
/// Adaptors from specifiers on the command line and from OpenFn project files (<c>--from</c>, <c>--keep-from</c>), merged as a build
/// merges <c>Adaptor</c> and <c>OpenFnProject</c> items (<see cref="AdaptorList"/>). Every error is printed with its file, line and column.
/// </summary>
internal static class ProjectFileOptions
{
    /// <summary>The merged list, or null after printing every error to stderr (a usage error: nothing was read or written in the repo).</summary>
    public static AdaptorList? Merge(IEnumerable<string>? specs, IEnumerable<FileInfo>? files)
    {
        var list = new AdaptorList();
        foreach (var spec in specs ?? [])
        {
            list.AddItem(spec);
        }

        foreach (var file in files ?? [])
        {
            list.AddProjectFile(file.FullName);
        }

        foreach (var e in list.Errors)
        {
            Console.Error.WriteLine(Line(e));
        }

        return list.Errors.Count == 0 ? list : null;
    }

    /// <summary><c>repolock: file(line,column): error RLxxxx: message</c>, the location left out when there is none.</summary>
    public static string Line(RepoLockException e)
    {
        var where = e.File is null ? "" : e.Line > 0 ? $"{e.File}({e.Line},{e.Column}): " : $"{e.File}: ";
        return $"repolock: {where}error {e.Code}: {e.Message}";
    }
}
