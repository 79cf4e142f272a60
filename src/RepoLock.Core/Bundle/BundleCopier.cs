using RepoLock.Core.Diagnostics;
using RepoLock.Core.Platform;

namespace RepoLock.Core.Bundle;

/// <summary>
/// The one place that copies files into a bundle, and so the one place that decides what may ship: folders recursively, dot-files
/// included; links judged by <see cref="AdaptorLinks.Judge"/> (kept as links, rewritten to relative, left out, or refused); every other
/// entry only when it is a regular file with a link count of 1, opened without following a link and copied from the handle that was
/// judged (a hard link can be another name of a private file outside the repo: RL6010, as are FIFOs, sockets and devices). Copies get
/// the source's permission bits (rwx for owner, group and others; never set-id bits).
/// </summary>
internal sealed class BundleCopier
{
    private const UnixFileMode Permissions = (UnixFileMode)0x1FF; // 0777

    private readonly string _package;
    private readonly string _adaptor;
    private readonly IRepoLockLog _log;

    private BundleCopier(string package, string adaptor, IRepoLockLog log)
    {
        _package = package;
        _adaptor = adaptor;
        _log = log;
    }

    /// <summary>Copies the package folder <paramref name="from"/> (an adaptor or a closure package) to <paramref name="to"/>, which must not exist yet.</summary>
    /// <param name="from">The package folder in the repo; links inside it must stay inside it.</param>
    /// <param name="to">Where it goes in the bundle.</param>
    /// <param name="adaptor">The adaptor that needs it, for messages.</param>
    /// <param name="log">Receives RL6009 for each dangling npm command link left out.</param>
    /// <exception cref="RepoLockException">RL4004 for a link that leaves the package or leads nowhere; RL6010 for a file that is not plain.</exception>
    public static void CopyPackage(string from, string to, string adaptor, IRepoLockLog log)
    {
        var copier = new BundleCopier(Path.TrimEndingDirectorySeparator(from), adaptor, log);
        copier.CopyFolder(copier._package, to);
    }

    /// <summary>Copies one plain file (a sentinel, a listing), creating its folder.</summary>
    /// <exception cref="RepoLockException">RL6010 when it is not a plain file.</exception>
    public static void CopyFile(string from, string to, string adaptor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        CopyPlain(from, to, adaptor);
    }

    private void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            var target = Path.Combine(to, entry.Name);
            switch (FileIdentity.Lstat(entry.FullName).Kind)
            {
                case FileIdentity.Kind.Link:
                    var written = entry.LinkTarget ?? "";
                    if (AdaptorLinks.Judge(entry.FullName, written, _package, _adaptor) is { } kept)
                    {
                        File.CreateSymbolicLink(target, kept);
                    }
                    else
                    {
                        _log.Warning(ErrorCodes.BundleDroppedBinLink, Errors.DroppedBinLinkMessage(_adaptor, entry.FullName, written));
                    }

                    break;
                case FileIdentity.Kind.Directory:
                    CopyFolder(entry.FullName, target);
                    break;
                case FileIdentity.Kind.Missing:
                    throw new FileNotFoundException($"{entry.FullName} disappeared while it was being copied.", entry.FullName);
                default:
                    CopyPlain(entry.FullName, target, _adaptor);
                    break;
            }
        }
    }

    private static void CopyPlain(string from, string to, string adaptor)
    {
        using var handle = FileIdentity.OpenRegular(from, out var info);
        if (handle is null)
        {
            throw Errors.BundleNotPlainFile(adaptor, from, $"is not a regular file ({info.Kind})");
        }

        if (info.Links > 1)
        {
            throw Errors.BundleNotPlainFile(adaptor, from, $"is a hard link: {info.Links} names share its content, and the others may be outside the repo");
        }

        using (var input = new FileStream(handle, FileAccess.Read, 0))
        using (var output = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
        {
            input.CopyTo(output);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(to, info.Mode & Permissions);
        }
    }
}
