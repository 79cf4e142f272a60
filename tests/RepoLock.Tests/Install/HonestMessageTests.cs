using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Install;

/// <summary>Messages that say what really happened, and names that fit every file RepoLock derives from them.</summary>
[Collection("sshfs mounts")] // one sshfs test bed at a time: they time lock takeovers, and parallel sshd/FUSE traffic skews them
public class HonestMessageTests : IClassFixture<InstallFixture>, IDisposable
{
    private const string Beta = "@fixture/language-beta@1.2.0";

    private readonly InstallFixture _fx;
    private readonly TempDir _dir = new("honest");
    private readonly CollectingLog _log = new();

    public HonestMessageTests(InstallFixture fx) => _fx = fx;

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public async Task A_miss_in_a_read_only_repo_is_RL3007_not_a_disk_space_hint()
    {
        using var mounts = new SshfsPair("ro");
        Prerequisite.SkipUnlessAvailable(mounts.SkipReason);
        Directory.CreateDirectory(Path.Combine(mounts.Shared, "repo"));
        var runner = new CountingRunner();

        var result = await new AdaptorRepo(new RepoLayout(Path.Combine(mounts.Mount2, "repo")), _fx.Settings(), _log, runner)
            .EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(ErrorCodes.RepoReadOnly, failure.Code);
        Assert.DoesNotContain("disk space", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, runner.Count);
    }

    [Fact]
    public async Task An_adaptor_package_json_whose_version_is_not_a_string_is_RL4005()
    {
        var liar = new FakeNpm(dir =>
        {
            var folder = Directory.CreateDirectory(Path.Combine(dir, "node_modules", "@fixture", "language-beta_1.2.0")).FullName;
            File.WriteAllText(Path.Combine(folder, "package.json"), """{ "name": "@fixture/language-beta", "version": 1.2 }""");
        });
        var layout = new RepoLayout(_dir.Combine("repo"));

        var result = await new AdaptorRepo(layout, _fx.Settings(), _log, liar).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);

        Assert.Equal(ErrorCodes.BadAdaptorManifest, Assert.Single(result.Failures).Code);
        Assert.False(Directory.Exists(layout.AdaptorDir("@fixture/language-beta_1.2.0")));
    }

    [Fact]
    public async Task Cancelling_after_the_move_says_the_adaptor_was_moved_into_place_and_the_next_build_completes_it()
    {
        using var cts = new CancellationTokenSource();
        var settings = _fx.Settings(checkpoint: (point, _) =>
        {
            if (point == "after-move")
            {
                cts.Cancel();
            }
        });
        var layout = new RepoLayout(_dir.Combine("repo"));

        var result = await new AdaptorRepo(layout, settings, _log).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], cts.Token);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(ErrorCodes.Cancelled, failure.Code);
        Assert.Contains("moved into place", failure.Message);
        Assert.DoesNotContain("not changed", failure.Message);
        var next = await new AdaptorRepo(layout, _fx.Settings(), _log).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);
        Assert.True(next.Succeeded);
        Assert.True(layout.IsInstalled("@fixture/language-beta_1.2.0"));
    }

    [Fact]
    public void The_longest_accepted_name_fits_every_derived_file_name_and_one_more_character_is_RL1001()
    {
        var longest = AdaptorSpecifier.Parse($"@s/{new string('a', 179)}@1.0.0");
        var layout = new RepoLayout(_dir.Combine("repo"));
        using (new LockService(new LockSettings()).StartWaiting(layout.LockTarget(longest.Alias), "test").TryAcquire("derived names")!)
        {
            Sentinel.For(longest, null, MachineIdentity.Current, DateTimeOffset.UtcNow).Write(layout.SentinelPath(longest.Alias));
        }

        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse($"@s/{new string('a', 180)}@1.0.0"));

        Assert.Equal(ErrorCodes.InvalidName, e.Code);
        Assert.True(File.Exists(layout.SentinelPath(longest.Alias)));
    }

    [Fact]
    public async Task Debris_of_killed_processes_older_than_the_stale_age_is_removed_and_fresh_temp_files_are_kept()
    {
        var layout = new RepoLayout(_dir.Combine("repo"));
        var old = DateTime.UtcNow.AddHours(-2);
        string Old(string path, bool folder = false)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (folder)
            {
                Directory.CreateDirectory(path);
                Directory.SetLastWriteTimeUtc(path, old);
            }
            else
            {
                File.WriteAllText(path, "left by a killed process");
                File.SetLastWriteTimeUtc(path, old);
            }

            return path;
        }

        var debris = new[]
        {
            Old(Path.Combine(layout.Root, ".package.json.4242.0123456789abcdef0123456789abcdef.tmp")),
            Old(Path.Combine(layout.LocksDir, ".clock-probe.4242.0123456789abcdef0123456789abcdef")),
            Old(Path.Combine(layout.LocksDir, "@fixture", ".language-x_1.0.0.lock.lock.owner.json.4242.0123456789abcdef0123456789abcdef.tmp")),
            Old(Path.Combine(layout.LocksDir, "@fixture", "language-x_1.0.0.lock.lock.stale-0123456789abcdef0123456789abcdef"), folder: true),
            Old(Path.Combine(layout.SentinelsDir, "@fixture", ".language-x_1.0.0.done.4242.0123456789abcdef0123456789abcdef.tmp")),
        };
        var fresh = Path.Combine(layout.SentinelsDir, "@fixture", ".language-y_1.0.0.done.4243.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllText(fresh, "a live writer's temp file");

        var result = await new AdaptorRepo(layout, _fx.Settings(), _log).EnsureInstalledAsync([AdaptorSpecifier.Parse(Beta)], default);

        Assert.True(result.Succeeded);
        Assert.All(debris, d => Assert.False(Path.Exists(d), $"{d} was left"));
        Assert.True(File.Exists(fresh));
    }

    private sealed class FakeNpm(Action<string> layout) : IProcessRunner
    {
        public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken)
        {
            layout(spec.WorkingDirectory);
            return Task.FromResult(new ProcessResult(0, "", false));
        }
    }
}
