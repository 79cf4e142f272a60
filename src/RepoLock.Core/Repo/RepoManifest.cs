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
    /// Adds the entries under the repo-wide manifest lock. Installs of one process queue on an in-process gate first, so they do not
    /// poll the file lock against each other. <paramref name="heldLock"/> (the adaptor's lock, if any) is checked under the manifest lock,
    /// immediately before the write: a holder that lost its lock writes nothing.
    /// </summary>
    /// <returns>true if the file was written.</returns>
    public static async Task<bool> AddAsync(
        RepoLayout layout, LockService locks, IReadOnlyList<AdaptorSpecifier> specs, LockHandle? heldLock, CancellationToken cancellationToken)
    {
        layout.RealFile(layout.ManifestLockTarget, create: true);
        var gate = Gates.GetOrAdd(layout.ManifestPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var handle = await locks.AcquireAsync(layout.ManifestLockTarget, $"update {layout.ManifestPath}", "the repo manifest", cancellationToken)
                .ConfigureAwait(false);
            heldLock?.ThrowIfLost(specs.Count == 1 ? specs[0].ToString() : string.Join(", ", specs));
            handle.ThrowIfLost("the repo manifest");
            return Add(layout, specs);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Adds one entry under the repo-wide manifest lock (see the list overload).</summary>
    public static Task<bool> AddAsync(RepoLayout layout, LockService locks, AdaptorSpecifier spec, CancellationToken cancellationToken) =>
        AddAsync(layout, locks, [spec], null, cancellationToken);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>Adds the entry (caller holds the manifest lock). Returns true if the file was written.</summary>
    public static bool Add(string manifestPath, AdaptorSpecifier spec) => Add(new RepoLayout(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!), [spec]);

    /// <summary>
    /// Adds the entries in one write (caller holds the manifest lock). Returns true if the file was written; nothing missing writes nothing.
    /// The write replaces only the instance read (<see cref="RepoDoor.ReplaceFile"/>): a writer that changed the file meanwhile (a paused
    /// holder's taker, a Node worker's root npm) is read again and merged, never overwritten.
    /// </summary>
    public static bool Add(RepoLayout layout, IReadOnlyList<AdaptorSpecifier> specs) => Update(layout, root =>
    {
        if (root["dependencies"] is not JsonObject deps)
        {
            deps = new JsonObject();
            root["dependencies"] = deps;
        }

        var changed = false;
        foreach (var spec in specs.Where(s => !Lists(root, s)))
        {
            deps[spec.Alias] = EntryValue(spec);
            changed = true;
        }

        return changed;
    });

    /// <summary>Reads the manifest, applies <paramref name="change"/>, and writes it back only over the instance read; retried on a change.</summary>
    private static bool Update(RepoLayout layout, Func<JsonObject, bool> change)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var bytes = layout.Door.ReadFile(layout.ManifestPath, RepoDoor.ManifestLimit, fresh: true, out var instance);
            var root = Parse(layout.ManifestPath, bytes) ?? new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = new JsonObject() };
            if (!change(root))
            {
                return false;
            }

            if (layout.Door.ReplaceFile(layout.ManifestPath, root.ToJsonString(Indented) + "\n", instance))
            {
                return true;
            }
        }

        throw new IOException($"{layout.ManifestPath} kept changing while RepoLock updated it (20 attempts); another tool rewrites it without the manifest lock.");
    }

    /// <summary>
    /// The specs the manifest does not list with the right value: the cache hits' self-check, one read per build. Parsed with
    /// <see cref="JsonDocument"/> in one pass over the entries (no node tree), so the check stays a small part of a cache hit.
    /// A missing manifest lists nothing; a link, a folder or a file that is not an OpenFn manifest throws as <see cref="Read(RepoLayout, bool)"/> does.
    /// </summary>
    public static List<AdaptorSpecifier> Unlisted(RepoLayout layout, IReadOnlyList<AdaptorSpecifier> specs)
    {
        var manifestPath = layout.ManifestPath;
        var pending = new Dictionary<string, AdaptorSpecifier>(specs.Count, StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            pending[spec.Alias] = spec;
        }

        if (layout.Door.ReadFile(manifestPath, RepoDoor.ManifestLimit) is not { } bytes)
        {
            return [.. pending.Values];
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Errors.BadManifest(manifestPath, "the top level is not a JSON object");
            }

            if (doc.RootElement.TryGetProperty("dependencies", out var deps))
            {
                if (deps.ValueKind != JsonValueKind.Object)
                {
                    throw Errors.BadManifest(manifestPath, "'dependencies' is not an object");
                }

                foreach (var entry in deps.EnumerateObject())
                {
                    if (pending.TryGetValue(entry.Name, out var spec) && entry.Value.ValueKind == JsonValueKind.String && entry.Value.ValueEquals(EntryValue(spec)))
                    {
                        pending.Remove(entry.Name);
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw Errors.BadManifest(manifestPath, $"not valid JSON: {e.Message}");
        }

        return [.. pending.Values];
    }

    /// <summary>Whether the manifest (as read by <see cref="Read(RepoLayout, bool)"/>) lists <paramref name="spec"/> under its alias with the right value.</summary>
    public static bool Lists(JsonObject? manifest, AdaptorSpecifier spec) =>
        manifest?["dependencies"] is JsonObject deps && deps[spec.Alias] is JsonValue existing
        && existing.TryGetValue<string>(out var current) && current == EntryValue(spec);

    /// <summary>
    /// Whether the manifest lists the alias for <paramref name="spec"/>'s package the way any OpenFn installer may have written it: the
    /// released engine checks only that the alias is listed, and its root <c>npm install</c> saves <c>npm:&lt;name&gt;@^&lt;version&gt;</c>.
    /// </summary>
    public static bool ListsAlias(JsonObject? manifest, AdaptorSpecifier spec) =>
        manifest?["dependencies"] is JsonObject deps && deps[spec.Alias] is JsonValue existing
        && existing.TryGetValue<string>(out var current) && current.StartsWith($"npm:{spec.Name}@", StringComparison.Ordinal);

    /// <summary>Removes the alias's entry under the repo-wide manifest lock (the tool's prune and fix). Removing an absent entry writes nothing.</summary>
    public static async Task<bool> RemoveAsync(RepoLayout layout, LockService locks, string alias, CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(layout.ManifestPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var handle = await locks.AcquireAsync(layout.ManifestLockTarget, $"update {layout.ManifestPath}", "the repo manifest", cancellationToken)
                .ConfigureAwait(false);
            handle.ThrowIfLost("the repo manifest");
            return layout.Door.Look(layout.ManifestPath) is not null
                && Update(layout, root => root["dependencies"] is JsonObject deps && deps.Remove(alias));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The manifest's object, or null if there is no file. A file that is not an OpenFn manifest is an error, never overwritten.</summary>
    public static JsonObject? Read(string manifestPath) => Read(new RepoLayout(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!), fresh: false);

    /// <summary>The manifest's object, read through the door (a regular file, bounded), or null if there is none.</summary>
    /// <param name="layout">The repo.</param>
    /// <param name="fresh">Decide "there is none" from a listing (before a change), not a lookup.</param>
    public static JsonObject? Read(RepoLayout layout, bool fresh) => Parse(layout.ManifestPath, layout.Door.ReadFile(layout.ManifestPath, RepoDoor.ManifestLimit, fresh));

    private static JsonObject? Parse(string manifestPath, byte[]? bytes)
    {
        if (bytes is null)
        {
            return null;
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
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
