using RepoLock.Tests.Infrastructure;
using Xunit.Sdk;

namespace RepoLock.Tests.Core;

/// <summary>CI must not pass on skips: a missing facility skips on a laptop and fails where it is required.</summary>
public class PrerequisiteTests
{
    [Fact]
    public void A_missing_facility_skips_with_its_reason_when_not_required()
    {
        var e = Assert.Throws<Xunit.SkipException>(() => Prerequisite.SkipUnlessAvailable("no /dev/fuse", required: false));

        Assert.Equal("no /dev/fuse", e.Message);
    }

    [Fact]
    public void A_missing_facility_fails_the_test_when_required()
    {
        var e = Assert.Throws<FalseException>(() => Prerequisite.SkipUnlessAvailable("no /dev/fuse", required: true));

        Assert.Contains("REPOLOCK_REQUIRE_SHARED_FS=1", e.Message);
        Assert.Contains("no /dev/fuse", e.Message);
    }

    [Fact]
    public void An_available_facility_neither_skips_nor_fails()
    {
        Prerequisite.SkipUnlessAvailable(null, required: true);
    }
}
