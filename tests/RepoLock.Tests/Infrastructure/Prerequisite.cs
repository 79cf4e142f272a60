namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// Tests that need a system facility (sshfs and FUSE, sshd, PID namespaces) skip with the reason when it is missing, on a laptop. CI sets
/// <see cref="RequireVariable"/> (<c>.ci/run</c> does), and there a missing facility fails the test instead: the guarantees these tests
/// prove must be proven on every submission, not skipped.
/// </summary>
internal static class Prerequisite
{
    public const string RequireVariable = "REPOLOCK_REQUIRE_SHARED_FS";

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Returns when <paramref name="whyNot"/> is null; otherwise skips with it, or fails when <see cref="Required"/>.</summary>
    public static void SkipUnlessAvailable(string? whyNot) => SkipUnlessAvailable(whyNot, Required);

    internal static void SkipUnlessAvailable(string? whyNot, bool required)
    {
        if (whyNot is null)
        {
            return;
        }

        Assert.False(required, $"{RequireVariable}=1 and this test cannot run here: {whyNot}");
        Skip.If(true, whyNot);
    }
}
