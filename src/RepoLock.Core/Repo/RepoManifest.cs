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
            return Add(layout.ManifestPath, specs);
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
    public static bool Add(string manifestPath, AdaptorSpecifier spec) => Add(manifestPath, [spec]);

    /// <summary>Adds the entries in one write (caller holds the manifest lock). Returns true if the file was written; nothing missing writes nothing.</summary>
    public static bool Add(string manifestPath, IReadOnlyList<AdaptorSpecifier> specs)
    {
        var root = Read(manifestPath) ?? new JsonObject { ["name"] = "openfn-repo", ["private"] = true, ["dependencies"] = new JsonObject() };
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

        if (changed)
        {
            AtomicFile.WriteAllText(manifestPath, root.ToJsonString(Indented) + "\n");
        }

        return changed;
    }

    /// <summary>
    /// The specs the manifest does not list with the right value: the cache hits' self-check, one read per build. Parsed with
    /// <see cref="JsonDocument"/> in one pass over the entries (no node tree), so the check stays a small part of a cache hit.
    /// A missing manifest lists nothing; a link, a folder or a file that is not an OpenFn manifest throws as <see cref="Read"/> does.
    /// </summary>
    public static List<AdaptorSpecifier> Unlisted(string manifestPath, IReadOnlyList<AdaptorSpecifier> specs)
    {
        var pending = new Dictionary<string, AdaptorSpecifier>(specs.Count, StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            pending[spec.Alias] = spec;
        }

        if (ReadBytes(manifestPath) is not { } bytes)
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

    /// <summary>False when there is no manifest; throws RL4002 for a link or a folder in its place (never followed).</summary>
    private static bool IsFile(string manifestPath) => RepoConfinement.KindOf(manifestPath) switch
    {
        RepoConfinement.EntryKind.Missing => false,
        RepoConfinement.EntryKind.Link => throw Errors.LinkInRepo(manifestPath, $"is a link (to {new FileInfo(manifestPath).LinkTarget}), not a file"),
        RepoConfinement.EntryKind.Directory => throw Errors.LinkInRepo(manifestPath, "is a folder, not a file"),
        _ => true,
    };

    private static byte[]? ReadBytes(string manifestPath)
    {
        if (!IsFile(manifestPath))
        {
            return null;
        }

        try
        {
            return File.ReadAllBytes(manifestPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Whether the manifest (as read by <see cref="Read"/>) lists <paramref name="spec"/> under its alias with the right value.</summary>
    public static bool Lists(JsonObject? manifest, AdaptorSpecifier spec) =>
        manifest?["dependencies"] is JsonObject deps && deps[spec.Alias] is JsonValue existing
        && existing.TryGetValue<string>(out var current) && current == EntryValue(spec);

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
        if (!IsFile(manifestPath))
        {
            return null;
        }

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
