namespace RepoLock.Tests.Infrastructure;

internal static class TestPaths
{
    public static readonly string RepoRoot = FindRepoRoot();

    public static string TestHostDll => System.IO.Path.Combine(AppContext.BaseDirectory, "RepoLock.TestHost.dll");

    public static string TaskDll => System.IO.Path.Combine(AppContext.BaseDirectory, "RepoLock.Tasks.dll");

    public static string NodeTools => System.IO.Path.Combine(RepoRoot, "tests", "node");

    public static string BuildProps => System.IO.Path.Combine(RepoRoot, "build", "RepoLock.Tasks.props");

    public static string BuildTargets => System.IO.Path.Combine(RepoRoot, "build", "RepoLock.Tasks.targets");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "RepoLock.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("RepoLock.sln not found above " + AppContext.BaseDirectory);
    }
}
