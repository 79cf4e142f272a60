using RepoLock.Core;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Core;

public class SentinelTests
{
    [Fact]
    public void Writes_the_install_record_atomically_and_reads_it_back()
    {
        using var dir = new TempDir();
        var path = dir.Combine(".sentinels", "@openfn", "language-http_7.2.10.done");
        var spec = AdaptorSpecifier.Parse("@openfn/language-http@7.2.10");
        var self = MachineIdentity.Current;

        Sentinel.For(spec, "sha512-abc+/=", self, DateTimeOffset.UnixEpoch).Write(path);

        var read = Sentinel.TryRead(path)!;
        Assert.Equal("@openfn/language-http", read.Name);
        Assert.Equal("7.2.10", read.Version);
        Assert.Equal("sha512-abc+/=", read.Integrity);
        Assert.Equal(self.Host, read.Host);
        Assert.Equal(self.ProcessId, read.ProcessId);
        Assert.Equal(RepoLockInfo.Version, read.RepoLockVersion);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temp file left
    }

    [Fact]
    public void The_runtime_rule_needs_both_sentinel_and_package_json()
    {
        using var dir = new TempDir();
        var layout = new RepoLayout(dir.Path);
        var spec = AdaptorSpecifier.Parse("x@1.0.0");

        Sentinel.For(spec, null, MachineIdentity.Current, DateTimeOffset.UtcNow).Write(layout.SentinelPath(spec.Alias));
        Assert.False(layout.IsInstalled(spec.Alias));

        Directory.CreateDirectory(layout.AdaptorDir(spec.Alias));
        File.WriteAllText(layout.AdaptorManifest(spec.Alias), "{}");
        Assert.True(layout.IsInstalled(spec.Alias));

        File.Delete(layout.SentinelPath(spec.Alias));
        Assert.False(layout.IsInstalled(spec.Alias));
    }
}
