using RepoLock.Core.Diagnostics;
using RepoLock.Core.Repo;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Before an adaptor is bundled: its folders are real folders inside the repo, its sentinel is a regular file, and every link inside it
/// resolves inside the adaptor's own tree (npm's <c>.bin</c> links do) to something that exists. A link that leaves the adaptor is refused
/// (RL4004): the bundle goes into a container image, and must never carry an outside file's content. A link that leads nowhere is refused
/// too (RL4004): the .NET SDK's <c>PublishContainer</c> copies what each link points to into the image, and fails the publish with MSB4018
/// on a dangling one. The walk never follows a directory link.
/// </summary>
internal static class AdaptorLinks
{
    /// <exception cref="RepoLockException">RL4002 for a link where a folder or the sentinel must be; RL4004 for a link leaving the adaptor or leading nowhere.</exception>
    public static void Check(RepoLayout layout, AdaptorSpecifier spec)
    {
        var adaptor = layout.AdaptorDir(spec.Alias);
        layout.RealDirectory(adaptor, create: false);
        layout.RealFile(layout.SentinelPath(spec.Alias), create: false);
        layout.RealFile(layout.AdaptorManifest(spec.Alias), create: false);
        Walk(new DirectoryInfo(adaptor), adaptor, spec);
    }

    private static void Walk(DirectoryInfo dir, string adaptor, AdaptorSpecifier spec)
    {
        foreach (var entry in dir.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
        {
            if (entry.LinkTarget is { } target)
            {
                var textual = Path.GetFullPath(target, Path.GetDirectoryName(entry.FullName)!);
                var inText = textual.StartsWith(adaptor + Path.DirectorySeparatorChar, StringComparison.Ordinal);
                if (!inText || !RepoConfinement.ResolvesInside(entry.FullName, adaptor))
                {
                    throw Errors.LinkLeaves(spec.ToString(), entry.FullName, target);
                }

                if (entry.ResolveLinkTarget(returnFinalTarget: true) is not { Exists: true })
                {
                    throw Errors.LinkDangles(spec.ToString(), entry.FullName, target);
                }
            }
            else if (entry is DirectoryInfo sub)
            {
                Walk(sub, adaptor, spec);
            }
        }
    }
}
