using System.Text.RegularExpressions;
using NuGet.Versioning;
using RepoLock.Core.Diagnostics;

namespace RepoLock.Core;

/// <summary>
/// An adaptor as the user wrote it: an npm package name and either an exact SemVer 2.0 version
/// or a dist-tag (latest, next, ...) still to be resolved through the registry.
/// Parsing is strict: a specifier that passes can never name a path outside the repo.
/// </summary>
public sealed partial class AdaptorSpecifier
{
    /// <summary>npm's longest package name.</summary>
    public const int MaxNameLength = 214; // npm's limit
    /// <summary>The longest version accepted.</summary>
    public const int MaxVersionLength = 64;

    /// <summary>
    /// The longest file name RepoLock derives from an alias's last segment: the temp file of the lock's owner record,
    /// <c>.&lt;alias&gt;.lock.lock.owner.json.&lt;pid&gt;.&lt;guid&gt;.tmp</c> (pid up to 10 digits). A broken lock moved aside
    /// (<c>&lt;alias&gt;.lock.lock.stale-&lt;guid&gt;</c>) and the sentinel's temp file are shorter. Every one must fit in 255 bytes.
    /// </summary>
    private const int LongestDerivedSuffix = 1 + 21 + 1 + 10 + 1 + 32 + 4;

    private AdaptorSpecifier(string name, SemanticVersion? version, string? tag)
    {
        Name = name;
        Version = version;
        Tag = tag;
    }

    /// <summary>The npm package name, for example <c>@openfn/language-http</c>.</summary>
    public string Name { get; }

    /// <summary>The exact version, or null while only a <see cref="Tag"/> is known.</summary>
    public SemanticVersion? Version { get; }

    /// <summary>The dist-tag still to be resolved (<c>latest</c>, <c>next</c>), or null for an exact version.</summary>
    public string? Tag { get; }

    /// <summary>True when the version is known exactly (no tag to resolve).</summary>
    public bool IsExact => Version is not null;

    /// <summary>The exact version as npm writes it (normalised SemVer 2.0, no build metadata).</summary>
    public string VersionText => Version?.ToNormalizedString() ?? throw new InvalidOperationException($"{Name}@{Tag} is not resolved yet.");

    /// <summary>The OpenFn repo alias: &lt;name&gt;_&lt;version&gt;.</summary>
    public string Alias => $"{Name}_{VersionText}";

    /// <summary><c>name@version</c>, or <c>name@tag</c> before resolution.</summary>
    public override string ToString() => IsExact ? $"{Name}@{VersionText}" : $"{Name}@{Tag}";

    /// <summary>This adaptor at the exact <paramref name="version"/> a registry gave for its tag.</summary>
    /// <param name="version">The version the registry answered.</param>
    /// <param name="item">The item as the user wrote it, for messages.</param>
    /// <exception cref="RepoLockException">RL1002 when the answer is not an exact version.</exception>
    public AdaptorSpecifier WithVersion(string version, string item)
    {
        var resolved = Parse(Name, version, item);
        if (!resolved.IsExact)
        {
            throw Errors.BadVersion(item, $"the registry answered '{version}', which is not an exact version");
        }

        return resolved;
    }

    /// <summary>Parses an item: <c>@scope/name@1.2.3</c>, <c>name@latest</c>, or <c>name</c> with <paramref name="versionMetadata"/>.</summary>
    public static AdaptorSpecifier Parse(string include, string? versionMetadata = null, string? itemForMessages = null)
    {
        var item = itemForMessages ?? include;
        include ??= string.Empty;
        if (include.Length == 0 || include.Trim().Length == 0)
        {
            throw Errors.BadName(item, "the name is empty");
        }

        if (include != include.Trim())
        {
            throw Errors.BadName(item, "it has leading or trailing spaces");
        }

        // The version separator is the first '@' after a leading scope '@'.
        var at = include.IndexOf('@', include.StartsWith('@') ? 1 : 0);
        var name = at < 0 ? include : include[..at];
        var versionInInclude = at < 0 ? null : include[(at + 1)..];
        var metadata = string.IsNullOrWhiteSpace(versionMetadata) ? null : versionMetadata.Trim();

        ValidateName(name, item);

        string versionText;
        if (versionInInclude is not null && metadata is not null)
        {
            if (!string.Equals(versionInInclude, metadata, StringComparison.Ordinal))
            {
                throw Errors.Conflict(item, versionInInclude, metadata);
            }

            versionText = versionInInclude;
        }
        else
        {
            versionText = versionInInclude ?? metadata ?? "latest";
        }

        if (versionText.Length == 0)
        {
            throw Errors.BadVersion(item, "the version after '@' is empty");
        }

        if (versionText.Length > MaxVersionLength)
        {
            throw Errors.BadVersion(item, $"the version is longer than {MaxVersionLength} characters");
        }

        if (TagPattern().IsMatch(versionText))
        {
            return new AdaptorSpecifier(name, null, versionText);
        }

        if (versionText.Contains('+'))
        {
            throw Errors.BadVersion(item, $"'{versionText}' has build metadata, which npm ignores");
        }

        if (!SemVerPattern().IsMatch(versionText) || !SemanticVersion.TryParse(versionText, out var version))
        {
            throw Errors.BadVersion(item, $"'{versionText}' is not an exact SemVer 2.0 version (ranges such as ^1.2.0 are not allowed)");
        }

        var spec = new AdaptorSpecifier(name, version, null);
        if (spec.Alias.Split('/')[^1].Length + LongestDerivedSuffix > 255)
        {
            throw Errors.BadName(item, "name and version together are too long for a file name");
        }

        return spec;
    }

    private static void ValidateName(string name, string item)
    {
        if (name.Length == 0)
        {
            throw Errors.BadName(item, "the name is empty");
        }

        if (name.Length > MaxNameLength)
        {
            throw Errors.BadName(item, $"it is longer than {MaxNameLength} characters");
        }

        if (name.Any(char.IsUpper))
        {
            throw Errors.BadName(item, "it has uppercase letters");
        }

        if (name.StartsWith('.') || name.StartsWith('_'))
        {
            throw Errors.BadName(item, "it starts with '.' or '_'");
        }

        if (!NamePattern().IsMatch(name))
        {
            throw Errors.BadName(item, "it may hold only a-z, 0-9, '-', '.', '_' and one '@scope/' prefix");
        }

        var last = name.Split('/')[^1];
        if (last is "node_modules" or "favicon.ico" || last.StartsWith('.') || last.StartsWith('_'))
        {
            throw Errors.BadName(item, $"'{last}' is not allowed as a package name");
        }
    }

    [GeneratedRegex(@"^(?:@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex SemVerPattern();
}
