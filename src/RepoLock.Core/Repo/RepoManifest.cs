using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Diagnostics;
using RepoLock.Core.Locking;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Repo;

/// <summary>
/// The OpenFn repo manifest, <c>&lt;repo&gt;/package.json</c>: every installed adaptor listed as
/// <c>"&lt;name&gt;_&lt;version&gt;": "npm:&lt;name&gt;@&lt;version&gt;"</c>. Always valid JSON (write-temp-then-rename), updated under a short
/// repo-wide lock, and idempotent: adding an entry that is already there writes nothing.
/// </summary>
internal static class RepoManifest
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string EntryValue(AdaptorSpecifier spec) => $"npm:{spec.Name}@{spec.VersionText}";

    /// <summary>
    /// Adds the entry under the repo-wide manifest lock. Installs of one process queue on an in-process gate first, so they do not
    /// poll the file lock against each other.
    /// </summary>
    public static async Task AddAsync(RepoLayout layout, LockService locks, AdaptorSpecifier spec, CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(layout.ManifestPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var handle = await locks.AcquireAsync(layout.ManifestLockTarget, $"update {layout.ManifestPath}", "the repo manifest", cancellationToken)
                .ConfigureAwait(false);
            Add(layout.ManifestPath, spec);
        }
        finally
        {
            gate.Release();
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>Adds the entry (caller holds the manifest lock). Returns true if the file was written.</summary>
    public static bool Add(string manifestPath, AdaptorSpecifier spec)
    {
        var root = Read(manifestPath) ?? new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = new JsonObject() };
        if (root["dependencies"] is not JsonObject deps)
        {
            deps = new JsonObject();
            root["dependencies"] = deps;
        }

        var value = EntryValue(spec);
        if (deps[spec.Alias] is JsonValue existing && existing.TryGetValue<string>(out var current) && current == value)
        {
            return false;
        }

        deps[spec.Alias] = value;
        AtomicFile.WriteAllText(manifestPath, root.ToJsonString(Indented) + "\n");
        return true;
    }

    /// <summary>Removes the alias's entry under the repo-wide manifest lock (the tool's prune and fix). Removing an absent entry writes nothing.</summary>
    public static async Task<bool> RemoveAsync(RepoLayout layout, LockService locks, string alias, CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(layout.ManifestPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var handle = await locks.AcquireAsync(layout.ManifestLockTarget, $"update {layout.ManifestPath}", "the repo manifest", cancellationToken)
                .ConfigureAwait(false);
            if (Read(layout.ManifestPath) is not { } root || root["dependencies"] is not JsonObject deps || !deps.Remove(alias))
            {
                return false;
            }

            AtomicFile.WriteAllText(layout.ManifestPath, root.ToJsonString(Indented) + "\n");
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The manifest's object, or null if there is no file. A file that is not an OpenFn manifest is an error, never overwritten.</summary>
    public static JsonObject? Read(string manifestPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(manifestPath);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw Errors.BadManifest(manifestPath, $"not valid JSON: {e.Message}");
        }

        if (node is not JsonObject obj)
        {
            throw Errors.BadManifest(manifestPath, "the top level is not a JSON object");
        }

        if (obj["dependencies"] is { } deps and not JsonObject)
        {
            throw Errors.BadManifest(manifestPath, "'dependencies' is not an object");
        }

        return obj;
    }
}
