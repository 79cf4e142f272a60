using RepoLock.Core.Diagnostics;
using RepoLock.Core.Project;

namespace RepoLock.Core;

/// <summary>
/// The adaptors a build (or <c>repolock install --from</c>) asks for: explicit <c>Adaptor</c> items and every adaptor the jobs of OpenFn
/// project files name, parsed the same way, duplicates collapsed (first place kept). A project adaptor whose name an explicit item
/// names at another version is an error naming both places. Errors are collected, each located (<see cref="RepoLockException.File"/>,
/// <see cref="RepoLockException.Line"/>, <see cref="RepoLockException.Column"/>); nothing is written anywhere.
/// </summary>
public sealed class AdaptorList
{
    private readonly List<AdaptorSpecifier> _adaptors = [];
    private readonly List<RepoLockException> _errors = [];
    private readonly Dictionary<string, (AdaptorSpecifier Adaptor, string Item, string? File)> _explicit = new(StringComparer.Ordinal);
    private readonly List<ProjectAdaptor> _fromProjects = [];

    /// <summary>The adaptors so far, in the order first named, each once (by name and version or tag as written).</summary>
    public IReadOnlyList<AdaptorSpecifier> Adaptors => _adaptors;

    /// <summary>Every coded error so far, each with the file (and line and column) it is about.</summary>
    public IReadOnlyList<RepoLockException> Errors => _errors;

    /// <summary>An explicit adaptor: an <c>Adaptor</c> item, or a specifier on the command line.</summary>
    /// <param name="include">The item: <c>name@version</c>, <c>name@tag</c> or a name.</param>
    /// <param name="version">Its <c>Version</c> metadata, or null.</param>
    /// <param name="definedIn">The project file that defines the item (MSBuild's <c>DefiningProjectFullPath</c>), for messages; or null.</param>
    public void AddItem(string include, string? version = null, string? definedIn = null)
    {
        AdaptorSpecifier spec;
        try
        {
            spec = AdaptorSpecifier.Parse(include, version);
        }
        catch (RepoLockException e)
        {
            _errors.Add(e.At(NullIfEmpty(definedIn)));
            return;
        }

        _explicit.TryAdd(spec.Name, (spec, include, NullIfEmpty(definedIn)));
        foreach (var found in _fromProjects.Where(p => p.Adaptor.Name == spec.Name))
        {
            CheckAgainstItem(found);
        }

        Keep(spec);
    }

    /// <summary>Every adaptor an OpenFn project file (<c>project.yaml</c>, a CLI workflow) names; errors RL1001/1002 (bad specifier),
    /// RL1008 (cannot read), RL1009 (neither format), RL1010 (a local path), RL1011 (another version than an explicit item).</summary>
    /// <param name="path">The file; a relative path is taken from the current folder (the task passes full paths).</param>
    public void AddProjectFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (adaptors, errors) = ProjectFileReader.Read(path);
        _errors.AddRange(errors);
        foreach (var found in adaptors)
        {
            _fromProjects.Add(found);
            if (CheckAgainstItem(found))
            {
                Keep(found.Adaptor);
            }
        }
    }

    /// <summary>
    /// <paramref name="failure"/> located where its adaptor was named: the project that defines the explicit item of that name, or the
    /// line and column of the first project file value that names it. A failure already located, or about no adaptor of this list, is
    /// returned as it is.
    /// </summary>
    /// <param name="failure">A failure from <see cref="AdaptorRepo.EnsureInstalledAsync"/> (its <see cref="RepoLockException.Adaptor"/>).</param>
    public RepoLockException Locate(RepoLockException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure.File is not null || failure.Adaptor is not { } adaptor)
        {
            return failure;
        }

        if (_explicit.TryGetValue(adaptor.Name, out var item))
        {
            return item.File is null ? failure : failure.At(item.File);
        }

        return _fromProjects.FirstOrDefault(p => p.Adaptor.Name == adaptor.Name) is { } found ? failure.At(found.File, found.Line, found.Column) : failure;
    }

    private bool CheckAgainstItem(ProjectAdaptor found)
    {
        if (!_explicit.TryGetValue(found.Adaptor.Name, out var item) || item.Adaptor.ToString() == found.Adaptor.ToString())
        {
            return true;
        }

        _errors.Add(Diagnostics.Errors.ProjectConflictsWithItem(found.File, found.Adaptor.ToString(), item.Item, item.File ?? "the command line")
            .At(found.File, found.Line, found.Column));
        return false;
    }

    private void Keep(AdaptorSpecifier spec)
    {
        if (!_adaptors.Any(a => a.ToString() == spec.ToString()))
        {
            _adaptors.Add(spec);
        }
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
