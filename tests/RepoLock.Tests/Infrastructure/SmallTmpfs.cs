using System.Diagnostics;

namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// A real, small file system of its own (tmpfs with a size limit) mounted on a temporary folder, to make a disk full or read-only for
/// real. Needs root; <see cref="WhyNot"/> says why it is not available (for <see cref="Prerequisite"/>).
/// </summary>
internal sealed class SmallTmpfs : IDisposable
{
    private readonly TempDir _dir = new("tmpfs");
    private readonly bool _mounted;

    public SmallTmpfs(int kilobytes)
    {
        Path = _dir.Combine("fs");
        Directory.CreateDirectory(Path);
        WhyNot = !OperatingSystem.IsLinux() ? "a tmpfs mount needs Linux."
            : !Environment.IsPrivilegedProcess ? "a tmpfs mount needs root."
            : Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Path);
        _mounted = WhyNot is null;
    }

    public string Path { get; }

    public string? WhyNot { get; }

    /// <summary>Remounts it read-only: every write fails with EROFS.</summary>
    public void MakeReadOnly() => Assert.Null(Run("mount", "-o", "remount,ro", Path));

    /// <summary>Fills it with one file until the disk is full (ENOSPC).</summary>
    public void Fill()
    {
        var block = new byte[4096]; // tmpfs counts whole pages
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // full
        }
    }

    public void Dispose()
    {
        if (_mounted)
        {
            Run("umount", "-l", Path);
        }

        _dir.Dispose();
    }

    private static string? Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        args.ToList().ForEach(psi.ArgumentList.Add);
        try
        {
            using var p = Process.Start(psi)!;
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"{tool} {string.Join(' ', args)} failed (exit {p.ExitCode}): {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{tool} is not available: {e.Message}";
        }
    }
}
