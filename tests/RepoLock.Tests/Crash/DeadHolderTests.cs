using System.Diagnostics;
using System.Globalization;
using RepoLock.Core;
using RepoLock.Tests.Infrastructure;
using RepoLock.Tests.Npm;

namespace RepoLock.Tests.Crash;

/// <summary>
/// Holders killed with SIGKILL in the ways the kill rounds do not cover: holding the repo-wide manifest lock; a dead lock that several
/// waiters find at once; only the host killed (as the OOM killer does) while its npm child lives on and keeps writing into staging.
/// The stale age stays at 300 s, so a recovery within seconds is the same-machine fast path.
/// </summary>
public sealed class DeadHolderTests : IDisposable
{
    private const string Stale = "300";
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(10); // "about a second", with room for a loaded 2-core machine
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(90);

    private readonly TempDir _dir = new("dead");
    private readonly FakeNpmRegistry _registry = FakeNpmRegistry.Start();

    public DeadHolderTests() => _registry.AddPackage("@fixture/language-dead", "1.0.0");

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    private RepoLayout Layout => new(_dir.Combine("repo"));

    private ChildProcess Install(string npmCache, string spec = "@fixture/language-dead@1.0.0") =>
        ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "install", Layout.Root, _registry.Url, _dir.Combine(npmCache), Stale, "4", spec]);

    [Fact]
    public async Task An_install_waiting_on_a_manifest_lock_whose_holder_was_killed_takes_it_over_within_seconds()
    {
        using var holder = HostLocks.Hold(Layout.ManifestLockTarget, TimeSpan.FromSeconds(300));
        await holder.WaitForLineAsync("LOCKED", Step);
        using var install = Install("npm-cache");
        await install.WaitForLineAsync($"process {holder.Id} (hold for a test)", Step); // past npm, waiting on the manifest

        holder.Kill();
        var killedAt = DateTime.UtcNow;
        var takenAt = await install.SeenAtAsync("took over the lock", Step);

        Assert.Equal(0, await install.WaitForExitAsync(Step));
        Assert.True(takenAt - killedAt < RecoveryBound, $"took the manifest lock {(takenAt - killedAt).TotalSeconds:0.00} s after the kill");
        Assert.Contains($"process {holder.Id} on this machine", install.Output);
        Assert.Equal(["@fixture/language-dead_1.0.0"], RepoState.AssertConsistent(Layout));
        Assert.False(Directory.Exists(LockService.LockDirFor(Layout.ManifestLockTarget)), "the manifest lock was not released");
        Assert.Empty(RepoState.LockDebris(Layout));
    }

    [Fact]
    public async Task Several_waiters_that_find_one_dead_lock_at_once_break_it_once_and_exclude_each_other()
    {
        var target = _dir.Combine(".locks", "counter.lock");
        var counter = _dir.Combine("counter.txt");
        using (var dead = HostLocks.Hold(target, TimeSpan.FromSeconds(300)))
        {
            await dead.WaitForLineAsync("LOCKED", Step);
            dead.Kill();
        }

        var gate = new StartGate(_dir.Combine("go"));
        var workers = Enumerable.Range(0, 4).Select(_ => ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "counter", target, counter, "20", Stale], env: gate.Environment)).ToList();
        try
        {
            await gate.OpenWhenAllReadyAsync(workers);
            foreach (var w in workers)
            {
                Assert.True(await w.WaitForExitAsync(Step) == 0, w.Output);
            }

            Assert.Equal("80", File.ReadAllText(counter).Trim());
            Assert.Single(workers, w => w.Output.Contains("took over the lock", StringComparison.Ordinal));
            Assert.False(Directory.Exists(target + ".lock"));
            Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!, "*.stale-*"));
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task Only_the_host_killed_while_its_npm_lives_on_leaves_a_repo_the_next_install_completes_and_npm_cannot_spoil()
    {
        var layout = Layout;
        _registry.TarballLatency = TimeSpan.FromSeconds(20); // the victim's npm stays mid-download past its host's death
        using var victim = Install("npm-cache-victim");
        await Poll.UntilAsync(() => _registry.TarballRequests("@fixture/language-dead") > 0 && RepoState.StagingFolders(layout).Count > 0,
            Step, "npm downloading the tarball", () => victim.Output);
        var npm = Descendants(victim.Id);
        Assert.NotEmpty(npm);
        _registry.TarballLatency = TimeSpan.Zero;

        Process.GetProcessById(victim.Id).Kill(entireProcessTree: false);
        try
        {
            using var next = Install("npm-cache-next");
            Assert.Equal(0, await next.WaitForExitAsync(Step));
            Assert.Contains($"process {victim.Id} on this machine", next.Output);
            Assert.Contains("\"outcome\":\"Installed\"", next.Stdout);
            var installed = File.ReadAllText(layout.SentinelPath("@fixture/language-dead_1.0.0"));

            await Poll.UntilAsync(() => npm.All(p => !Alive(p)), Step, "the orphaned npm finished"); // it wrote what it could

            Assert.Equal(["@fixture/language-dead_1.0.0"], RepoState.AssertConsistent(layout));
            Assert.Equal(installed, File.ReadAllText(layout.SentinelPath("@fixture/language-dead_1.0.0")));
            Assert.Empty(RepoState.LockDebris(layout));
            Assert.Empty(RepoState.StagingFolders(layout).SelectMany(d => Directory.GetFileSystemEntries(d, "*", SearchOption.AllDirectories)));
        }
        finally
        {
            npm.Where(Alive).ToList().ForEach(p => Process.GetProcessById(p).Kill());
        }
    }

    /// <summary>Every live process below <paramref name="pid"/> (from /proc).</summary>
    private static List<int> Descendants(int pid)
    {
        var parents = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Select(n => (Pid: int.Parse(n!, CultureInfo.InvariantCulture), Parent: ParentOf(n!))).Where(p => p.Parent is not null).ToList();
        var found = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out var current))
        {
            foreach (var child in parents.Where(p => p.Parent == current).Select(p => p.Pid))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }

    private static int? ParentOf(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
