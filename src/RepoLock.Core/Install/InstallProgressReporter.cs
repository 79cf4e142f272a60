using System.Globalization;

namespace RepoLock.Core.Install;

/// <summary>
/// What a build shows while it installs one adaptor: a line when the install starts (what, where, via npm), a "still installing" line
/// every <see cref="Interval"/> while npm runs, so a CI log is never silent for longer, and a line when it ends (time, size on disk).
/// The timer runs on <see cref="TimeProvider"/>, so tests drive it with a fake clock. Disposing stops it.
/// </summary>
internal sealed class InstallProgressReporter : IDisposable
{
    /// <summary>Less than 10 s, so no gap between lines reaches 10 s even when the timer fires late.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(9);

    private readonly string _subject;
    private readonly TimeProvider _time;
    private readonly IRepoLockLog _log;
    private readonly long _started;
    private readonly ITimer _timer;
    private int _stopped;

    private InstallProgressReporter(string subject, TimeProvider time, IRepoLockLog log, TimeSpan interval)
    {
        _subject = subject;
        _time = time;
        _log = log;
        _started = time.GetTimestamp();
        _timer = time.CreateTimer(_ => Still(), null, interval, interval);
    }

    /// <summary>Says the install of <paramref name="subject"/> into <paramref name="repo"/> starts, and starts the timer.</summary>
    public static InstallProgressReporter Start(string subject, string repo, string npm, TimeProvider time, IRepoLockLog log, TimeSpan? interval = null)
    {
        log.Info($"RepoLock: installing {subject} into {repo} with {npm} install ...");
        return new InstallProgressReporter(subject, time, log, interval ?? Interval);
    }

    /// <summary>Stops the timer and says the install ended, with its time and the adaptor folder's size on disk.</summary>
    public void Installed(string adaptorDir)
    {
        Dispose();
        var seconds = _time.GetElapsedTime(_started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        _log.Info($"RepoLock: installed {_subject} in {seconds} s ({Size(SizeOnDisk(adaptorDir))} on disk).");
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _stopped, 1);
        _timer.Dispose();
    }

    private void Still()
    {
        if (Volatile.Read(ref _stopped) == 0)
        {
            _log.Info($"RepoLock: still installing {_subject} ({_time.GetElapsedTime(_started).TotalSeconds:0} s) ...");
        }
    }

    /// <summary>The bytes of the regular files under <paramref name="dir"/>; links are neither followed nor counted.</summary>
    internal static long SizeOnDisk(string dir)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        try
        {
            return new DirectoryInfo(dir).EnumerateFiles("*", options).Sum(f => f.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
    };
}
