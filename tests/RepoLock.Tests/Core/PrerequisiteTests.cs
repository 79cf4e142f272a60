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

    [Fact]
    public void Tests_that_need_a_facility_go_through_the_gate_never_Skip_If_directly()
    {
        var facility = new System.Text.RegularExpressions.Regex(@"Skip\.If(Not)?\(.*(SkipReason|WhyNot|root|fuse|sshfs|sshd|unshare|hidepid|mount)",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        var tests = Path.Combine(TestPaths.RepoRoot, "tests", "RepoLock.Tests");
        var offenders = Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && Path.GetFileName(f) is not ("Prerequisite.cs" or "PrerequisiteTests.cs"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: line, Number: i + 1)))
            .Where(x => facility.IsMatch(x.Line))
            .Select(x => $"{Path.GetRelativePath(tests, x.File)}:{x.Number}: {x.Line.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "call Prerequisite.SkipUnlessAvailable instead (CI must fail, not skip):\n" + string.Join("\n", offenders));
    }
}
