using System.Globalization;

namespace RepoLock.Core.Install;

/// <summary>
/// Test-only: lets a test stop an install at a named point (and kill it there). Read in this one place, from the environment variable
/// <see cref="EnvironmentVariable"/>; unset (always, outside tests) it does nothing. At each point it writes
/// <c>&lt;dir&gt;/&lt;point&gt;.reached</c>, and waits while <c>&lt;dir&gt;/&lt;point&gt;.block</c> exists.
/// </summary>
internal static class TestOnlyCheckpoints
{
    public const string EnvironmentVariable = "REPOLOCK_TEST_CHECKPOINT_DIR";

    /// <summary>The checkpoint callback the environment asks for, or null (the product's case).</summary>
    public static Action<string, AdaptorSpecifier>? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } dir ? (point, _) => Reach(dir, point) : null;

    /// <summary>The checkpoint callback for lock steps (release) the environment asks for, or null.</summary>
    public static Action<string>? ForLocks() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } dir ? point => Reach(dir, point) : null;

    public static void Reach(string dir, string point)
    {
        try
        {
            File.WriteAllText(Path.Combine(dir, point + ".reached"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            while (File.Exists(Path.Combine(dir, point + ".block")))
            {
                Thread.Sleep(20);
            }
        }
        catch (IOException)
        {
        }
    }
}
