using RepoLock.Core;

namespace RepoLock.Tests.Core;

public class AdaptorSpecifierTests
{
    [Theory]
    [InlineData("@openfn/language-http@7.2.10", "@openfn/language-http", "7.2.10", "@openfn/language-http_7.2.10")]
    [InlineData("@openfn/language-common@3.3.4", "@openfn/language-common", "3.3.4", "@openfn/language-common_3.3.4")]
    [InlineData("lodash@4.17.21", "lodash", "4.17.21", "lodash_4.17.21")]
    [InlineData("@x/y@1.0.0-beta.2", "@x/y", "1.0.0-beta.2", "@x/y_1.0.0-beta.2")]
    [InlineData("a.b-c_d@0.0.1-rc.1.x-y", "a.b-c_d", "0.0.1-rc.1.x-y", "a.b-c_d_0.0.1-rc.1.x-y")]
    public void Parses_exact_specifiers(string include, string name, string version, string alias)
    {
        var spec = AdaptorSpecifier.Parse(include);

        Assert.Equal(name, spec.Name);
        Assert.Equal(version, spec.VersionText);
        Assert.Equal(alias, spec.Alias);
    }

    [Fact]
    public void Takes_the_version_from_metadata()
    {
        var spec = AdaptorSpecifier.Parse("@openfn/language-http", "7.2.10");

        Assert.Equal("@openfn/language-http_7.2.10", spec.Alias);
    }

    [Fact]
    public void Same_version_in_include_and_metadata_is_accepted()
    {
        Assert.Equal("7.2.10", AdaptorSpecifier.Parse("@openfn/language-http@7.2.10", "7.2.10").VersionText);
    }

    [Fact]
    public void Different_versions_in_include_and_metadata_are_RL1005()
    {
        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse("@openfn/language-http@7.2.10", "7.2.9"));

        Assert.Equal(ErrorCodes.ConflictingVersion, e.Code);
    }

    [Theory]
    [InlineData("@openfn/language-http", "latest")]
    [InlineData("@openfn/language-http@latest", "latest")]
    [InlineData("@openfn/language-http@next", "next")]
    [InlineData("lodash@beta", "beta")]
    public void Tags_and_missing_versions_are_left_to_resolve(string include, string tag)
    {
        var spec = AdaptorSpecifier.Parse(include);

        Assert.False(spec.IsExact);
        Assert.Equal(tag, spec.Tag);
    }

    [Theory]
    [InlineData("../../etc/passwd@1.0.0")]
    [InlineData("..@1.0.0")]
    [InlineData("@openfn/../../x@1.0.0")]
    [InlineData("@../x@1.0.0")]
    [InlineData("a/b@1.0.0")]
    [InlineData("/abs/path@1.0.0")]
    [InlineData("a\\b@1.0.0")]
    [InlineData("x;rm -rf /@1.0.0")]
    [InlineData("x$(id)@1.0.0")]
    [InlineData("x`id`@1.0.0")]
    [InlineData("x|y@1.0.0")]
    [InlineData("x&y@1.0.0")]
    [InlineData("x y@1.0.0")]
    [InlineData("x\ny@1.0.0")]
    [InlineData("X@1.0.0")]
    [InlineData("@OpenFn/language-http@1.0.0")]
    [InlineData(".hidden@1.0.0")]
    [InlineData("_under@1.0.0")]
    [InlineData("node_modules@1.0.0")]
    [InlineData("@scope/@1.0.0")]
    [InlineData("@/x@1.0.0")]
    [InlineData("@1.0.0")]
    [InlineData("x~y@1.0.0")]
    [InlineData("x*y@1.0.0")]
    [InlineData("ünïcode@1.0.0")]
    public void Hostile_or_invalid_names_are_RL1001(string include)
    {
        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse(include));

        Assert.Equal(ErrorCodes.InvalidName, e.Code);
    }

    [Fact]
    public void Over_long_names_are_RL1001()
    {
        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse(new string('a', 215) + "@1.0.0"));

        Assert.Equal(ErrorCodes.InvalidName, e.Code);
    }

    [Fact]
    public void Empty_and_padded_names_are_RL1001()
    {
        Assert.Equal(ErrorCodes.InvalidName, Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse("")).Code);
        Assert.Equal(ErrorCodes.InvalidName, Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse(" x@1.0.0")).Code);
    }

    [Theory]
    [InlineData("x@1.0")]
    [InlineData("x@1")]
    [InlineData("x@01.0.0")]
    [InlineData("x@1.0.0.0")]
    [InlineData("x@^1.2.3")]
    [InlineData("x@~1.2.3")]
    [InlineData("x@>=1.0.0")]
    [InlineData("x@1.x")]
    [InlineData("x@*")]
    [InlineData("x@1.0.0-")]
    [InlineData("x@1.0.0-01")]
    [InlineData("x@1.0.0+build.1")]
    [InlineData("x@v1.0.0")]
    [InlineData("x@1.0.0/../../..")]
    [InlineData("x@1.0.0;id")]
    [InlineData("x@")]
    [InlineData("x@LATEST")]
    public void Malformed_versions_are_RL1002(string include)
    {
        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse(include));

        Assert.Equal(ErrorCodes.InvalidVersion, e.Code);
    }

    [Fact]
    public void Over_long_versions_are_RL1002()
    {
        var e = Assert.Throws<RepoLockException>(() => AdaptorSpecifier.Parse("x@1.0.0-" + new string('a', 100)));

        Assert.Equal(ErrorCodes.InvalidVersion, e.Code);
    }

    [Fact]
    public void Every_path_of_a_valid_specifier_stays_inside_the_repo()
    {
        using var dir = new Infrastructure.TempDir();
        var layout = new RepoLayout(dir.Path);
        var spec = AdaptorSpecifier.Parse("@a-b.c/d.e_f@1.2.3-x.1");

        foreach (var path in new[] { layout.AdaptorDir(spec.Alias), layout.SentinelPath(spec.Alias), layout.LockTarget(spec.Alias) })
        {
            Assert.StartsWith(layout.Root + Path.DirectorySeparatorChar, path);
        }
    }
}
