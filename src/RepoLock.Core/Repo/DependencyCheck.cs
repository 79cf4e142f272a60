using System.Text.Json;
using System.Text.Json.Nodes;

namespace RepoLock.Core.Repo;

/// <summary>
/// Whether an installed adaptor's dependency closure resolves the way Node resolves it: each dependency of each package is found in
/// <c>node_modules</c> next to the package or in an ancestor, without leaving the adaptor's folder (npm's shallow strategy puts the
/// whole closure inside it). Optional and peer dependencies are not required.
/// </summary>
internal static class DependencyCheck
{
    /// <summary>The first dependency that does not resolve, as "dep (needed by pkg)", or null when the closure is complete.</summary>
    public static string? FirstMissing(string adaptorDir)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { adaptorDir };
        var queue = new Queue<string>([adaptorDir]);
        while (queue.Count > 0)
        {
            var package = queue.Dequeue();
            foreach (var dep in Dependencies(package))
            {
                var found = Resolve(package, dep, adaptorDir);
                if (found is null)
                {
                    return $"{dep} (needed by {Path.GetRelativePath(Path.GetDirectoryName(adaptorDir)!, package)})";
                }

                if (seen.Add(found))
                {
                    queue.Enqueue(found);
                }
            }
        }

        return null;
    }

    private static string? Resolve(string from, string dep, string adaptorDir)
    {
        for (var dir = from; dir is not null && dir.StartsWith(adaptorDir, StringComparison.Ordinal); dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) == "node_modules")
            {
                continue;
            }

            var candidate = Path.Combine(dir, "node_modules", dep);
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static List<string> Dependencies(string package)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(package, "package.json")))?["dependencies"] is JsonObject deps
                ? deps.Select(d => d.Key).ToList()
                : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return []; // an unreadable package.json below the adaptor: the wrong-package check reports the adaptor's own
        }
    }
}
