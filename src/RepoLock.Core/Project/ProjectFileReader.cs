using RepoLock.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RepoLock.Core.Project;

/// <summary>
/// Reads the adaptors an OpenFn project file names, in the formats OpenFn's own code reads (OpenFn/kit):
/// <list type="bullet">
/// <item>the CLI's deploy/pull <c>project.yaml</c> (<c>packages/deploy</c>, <c>ProjectSpec</c>): <c>workflows</c> is a map of workflows,
/// each with a <c>jobs</c> map whose jobs name an <c>adaptor</c>; Lightning's state JSON has the same shape;</item>
/// <item>the v2 project file (<c>packages/lexicon/portability.d.ts</c>, <c>schema_version</c> 4.0): <c>workflows</c> is a list, each with
/// <c>steps</c> that name an <c>adaptor</c> (triggers name none);</item>
/// <item>a CLI workflow (<c>packages/cli/src/util/load-plan.ts</c>), JSON or YAML: <c>{ "workflow": { "steps": [...] } }</c>,
/// <c>{ "steps": [...] }</c> or the old <c>{ "jobs": [...] }</c>, each step with <c>adaptor</c> or an <c>adaptors</c> list.</item>
/// </list>
/// Maps and lists are accepted in each place. Shorthand names (<c>common@2.1.0</c>) expand to <c>@openfn/language-common@2.1.0</c>, as the
/// CLI's <c>expandAdaptors</c> does. A job without an adaptor is skipped. JSON is read as YAML (a tab, which JSON allows between tokens,
/// becomes a space first), so every value has a line and column.
/// </summary>
internal static class ProjectFileReader
{
    /// <summary>The adaptors <paramref name="path"/> names, in file order; every coded error found, each with file, line and column.</summary>
    public static (List<ProjectAdaptor> Adaptors, List<RepoLockException> Errors) Read(string path)
    {
        var file = Path.GetFullPath(path);
        var adaptors = new List<ProjectAdaptor>();
        var errors = new List<RepoLockException>();
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(Errors.ProjectFileMissing(file, e is FileNotFoundException or DirectoryNotFoundException ? "the file does not exist" : e.Message).At(file));
            return (adaptors, errors);
        }

        if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            text = text.Replace('\t', ' '); // a raw tab cannot be inside a JSON string, and a space keeps every column
        }

        YamlNode? root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        }
        catch (YamlException e)
        {
            errors.Add(Errors.NotAProjectFile(file, $"not valid YAML or JSON: {Reason(e)}").At(file, (int)e.Start.Line, (int)e.Start.Column));
            return (adaptors, errors);
        }

        var workflows = Workflows(root);
        if (workflows is null)
        {
            var (line, column) = root is null ? (1, 1) : Where(root);
            errors.Add(Errors.NotAProjectFile(file, "it has no 'workflows', 'workflow', 'steps' or 'jobs' at the top").At(file, line, column));
            return (adaptors, errors);
        }

        foreach (var workflow in workflows)
        {
            if (workflow is not YamlMappingNode map)
            {
                Fail(workflow, "a workflow must be a map");
                continue;
            }

            foreach (var key in new[] { "jobs", "steps" })
            {
                foreach (var job in Children(Get(map, key), $"'{key}' must be a map or a list"))
                {
                    if (job is YamlMappingNode jobMap)
                    {
                        ReadJob(jobMap);
                    }
                    else
                    {
                        Fail(job, $"each of '{key}' must be a map");
                    }
                }
            }
        }

        return (adaptors, errors);

        void ReadJob(YamlMappingNode job)
        {
            if (Get(job, "adaptor") is { } one)
            {
                Add(one);
            }

            foreach (var item in Children(Get(job, "adaptors"), "'adaptors' must be a list"))
            {
                Add(item);
            }
        }

        void Add(YamlNode node)
        {
            if (node is not YamlScalarNode { Value: var value })
            {
                Fail(node, "an adaptor must be a string such as '@openfn/language-http@7.2.10'");
                return;
            }

            if (string.IsNullOrEmpty(value) || IsNull(node))
            {
                return; // a job without an adaptor
            }

            var (line, column) = Where(node);
            if (value.Contains('=', StringComparison.Ordinal))
            {
                errors.Add(Errors.PathAdaptor(file, value).At(file, line, column));
                return;
            }

            try
            {
                adaptors.Add(new ProjectAdaptor(AdaptorSpecifier.Parse(Expand(value), null, value), file, line, column));
            }
            catch (RepoLockException e)
            {
                errors.Add(e.At(file, line, column));
            }
        }

        IEnumerable<YamlNode> Children(YamlNode? node, string shape)
        {
            switch (node)
            {
                case null:
                    return [];
                case YamlMappingNode m:
                    return m.Children.Values;
                case YamlSequenceNode s:
                    return s.Children;
                default:
                    if (!IsNull(node))
                    {
                        Fail(node, shape);
                    }

                    return [];
            }
        }

        void Fail(YamlNode node, string detail)
        {
            var (line, column) = Where(node);
            errors.Add(Errors.NotAProjectFile(file, detail).At(file, line, column));
        }
    }

    /// <summary>The workflows of a file: the <c>workflows</c> map or list, the one <c>workflow</c>, or the file itself when it has steps or jobs.</summary>
    private static IEnumerable<YamlNode>? Workflows(YamlNode? root)
    {
        if (root is not YamlMappingNode map)
        {
            return null;
        }

        return Get(map, "workflows") switch
        {
            YamlMappingNode m => m.Children.Values,
            YamlSequenceNode s => s.Children,
            { } other when IsNull(other) => [],
            { } other => [other],
            null => Get(map, "workflow") is { } one ? [one]
                : Get(map, "steps") is not null || Get(map, "jobs") is not null ? [map]
                : null,
        };
    }

    /// <summary>The CLI's shorthand: a name with no '/' (and not a .js file) is an adaptor in @openfn/language-*.</summary>
    private static string Expand(string value) =>
        value.Split('@')[0] is var left && left.Length > 0 && !left.Contains('/', StringComparison.Ordinal) && !left.EndsWith(".js", StringComparison.Ordinal)
            ? "@openfn/language-" + value
            : value;

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static (int Line, int Column) Where(YamlNode node) => ((int)node.Start.Line, (int)node.Start.Column);

    private static string Reason(YamlException e) =>
        e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
}
