using Microsoft.Extensions.Time.Testing;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>The lines a build shows while one adaptor installs, on a fake clock.</summary>
public sealed class InstallProgressReporterTests : IDisposable
{
    private readonly TempDir _dir = new("progress");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void It_says_what_where_and_via_npm_when_the_install_starts()
    {
        var log = new CollectingLog();

        using var reporter = InstallProgressReporter.Start("@openfn/language-http@7.2.10", "/mnt/repo", "npm", new FakeTimeProvider(), log);

        Assert.Equal(["RepoLock: installing @openfn/language-http@7.2.10 into /mnt/repo with npm install ..."], log.Infos);
    }

    [Fact]
    public void While_npm_runs_a_still_installing_line_comes_every_interval_with_the_time_so_far()
    {
        var time = new FakeTimeProvider();
        var log = new CollectingLog();
        using var reporter = InstallProgressReporter.Start("a@1.0.0", "/r", "npm", time, log);

        time.Advance(InstallProgressReporter.Interval - TimeSpan.FromMilliseconds(1));
        var before = log.Infos.Count;
        time.Advance(TimeSpan.FromMilliseconds(1));
        time.Advance(InstallProgressReporter.Interval);

        Assert.Equal(1, before);
        Assert.Equal(["RepoLock: still installing a@1.0.0 (9 s) ...", "RepoLock: still installing a@1.0.0 (18 s) ..."], log.Infos.Skip(1));
        Assert.True(InstallProgressReporter.Interval < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void The_end_line_gives_the_time_and_the_size_on_disk_and_no_line_follows_it()
    {
        var time = new FakeTimeProvider();
        var log = new CollectingLog();
        var adaptor = Directory.CreateDirectory(_dir.Combine("adaptor", "lib")).Parent!.FullName;
        File.WriteAllBytes(Path.Combine(adaptor, "package.json"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(adaptor, "lib", "index.js"), new byte[2072]);
        File.CreateSymbolicLink(Path.Combine(adaptor, "link.js"), "/etc/passwd");
        var reporter = InstallProgressReporter.Start("a@1.0.0", "/r", "npm", time, log);

        time.Advance(TimeSpan.FromSeconds(4.25));
        reporter.Installed(adaptor);
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("RepoLock: installed a@1.0.0 in 4.3 s (3.0 KiB on disk).", log.Infos[^1]);
        Assert.Equal(2, log.Infos.Count);
    }

    [Fact]
    public void A_failed_install_disposes_the_reporter_and_the_lines_stop()
    {
        var time = new FakeTimeProvider();
        var log = new CollectingLog();

        using (InstallProgressReporter.Start("a@1.0.0", "/r", "npm", time, log))
        {
            time.Advance(InstallProgressReporter.Interval);
        }

        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(2, log.Infos.Count);
    }
}
