namespace RepoLock.Tests.Npm;

/// <summary>Runs the real npm CLI (resolved from PATH) without a shell.</summary>
internal static class NpmCli
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private static readonly Lazy<string> NpmPath = new(ResolveNpm);

    /// <summary>
    /// Runs <c>npm args…</c> in <paramref name="workingDir"/> and returns the exit code and the
    /// interleaved stdout+stderr. The user's ~/.npmrc and inherited <c>npm_config_*</c> variables are
    /// ignored so tests behave the same on every machine; pass settings as arguments instead.
    /// After <see cref="Timeout"/> the whole process tree is killed and -1 is returned.
    /// </summary>
    public static (int ExitCode, string Output) Run(string workingDir, params string[] args)
    {
        // Isolate from ~/.npmrc (a non-existent userconfig is fine for npm).
        using var npm = ChildProcess.Start(NpmPath.Value, args, workingDir,
            new Dictionary<string, string?> { ["npm_config_userconfig"] = Path.Combine(Path.GetTempPath(), "repolock-tests-no-such-npmrc") },
            dropInherited: key => key.StartsWith("npm_config_", StringComparison.OrdinalIgnoreCase));
        npm.StandardInput.Close();
        var result = npm.WaitAsync(Timeout).GetAwaiter().GetResult();
        return result.TimedOut
            ? (-1, npm.InterleavedOutput + $"[NpmCli] npm {string.Join(' ', args)} timed out after {Timeout.TotalSeconds:0}s and was killed.{Environment.NewLine}")
            : (result.ExitCode, npm.InterleavedOutput);
    }

    private static string ResolveNpm()
    {
        string[] names = OperatingSystem.IsWindows() ? ["npm.cmd", "npm.exe", "npm"] : ["npm"];
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in names)
            {
                string candidate = Path.Combine(dir.Trim('"'), name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return names[0]; // let Process.Start report a clear error
    }
}
