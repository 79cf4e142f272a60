using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Bundle;

/// <summary>
/// The bundle's rule for links, the same for an adaptor's folder and for every closure package copied from outside it (each a "package"
/// here: the folder copied as a whole). A link is kept only when it resolves, by its text and by <c>realpath</c>, inside the same package
/// to something that exists: the bundle goes into a container image, and must never carry an outside file's content, and the .NET SDK's
/// <c>PublishContainer</c> copies what each link points to into the image (failing with MSB4018 on a dangling one). An absolute link to a
/// place inside the package is rewritten to the equivalent relative link (it would otherwise point back into the shared repo, or to
/// whatever lives at that path in an image). A dangling npm command link (<c>node_modules/.bin/&lt;command&gt;</c>) is left out with a
/// warning (RL6009): the runtime never runs it. Any other link that leaves the package or leads nowhere is refused (RL4004).
/// </summary>
internal static class AdaptorLinks
{
    /// <summary>The adaptor's folders are real folders inside the repo, its sentinel and package.json regular files.</summary>
    /// <exception cref="RepoLockException">RL4002 for a link where a folder or the sentinel must be.</exception>
    public static void Check(RepoLayout layout, AdaptorSpecifier spec)
    {
        layout.RealDirectory(layout.AdaptorDir(spec.Alias), create: false);
        layout.RealFile(layout.SentinelPath(spec.Alias), create: false);
        layout.RealFile(layout.AdaptorManifest(spec.Alias), create: false);
    }

    /// <summary>
    /// What the bundle writes for the link <paramref name="link"/> (target text <paramref name="target"/>) inside the package folder
    /// <paramref name="package"/>: the target text to write, or null when the link is left out (a dangling npm command link).
    /// </summary>
    /// <exception cref="RepoLockException">RL4004 naming the link, when it leaves the package or leads nowhere.</exception>
    public static string? Judge(string link, string target, string package, string adaptor)
    {
        var dir = Path.GetDirectoryName(link)!;
        var text = target;
        if (Path.IsPathRooted(target))
        {
            var full = Path.GetFullPath(target);
            text = IsInside(full, package) ? Path.GetRelativePath(dir, full)
                : IsInside(full, NativeFs.RealPath(package)) ? Path.GetRelativePath(NativeFs.RealPath(dir), full)
                : throw Errors.LinkLeaves(adaptor, link, target);
            text = text.Replace(Path.DirectorySeparatorChar, '/');
        }

        if (!IsInside(Path.GetFullPath(text, dir), package))
        {
            throw Errors.LinkLeaves(adaptor, link, target);
        }

        var real = NativeFs.RealPath(link);
        if (FileIdentity.Lstat(real).Kind is FileIdentity.Kind.Missing or FileIdentity.Kind.Link)
        {
            return IsNpmCommand(link) ? null : throw Errors.LinkDangles(adaptor, link, target);
        }

        return RepoConfinement.ResolvesInside(link, package) ? text : throw Errors.LinkLeaves(adaptor, link, target);
    }

    /// <summary>An entry of an npm command folder: <c>.../node_modules/.bin/&lt;command&gt;</c>.</summary>
    private static bool IsNpmCommand(string link) =>
        Path.GetFileName(Path.GetDirectoryName(link)) == ".bin" && Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(link))) == "node_modules";

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
