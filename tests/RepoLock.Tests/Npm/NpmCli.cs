using System.Diagnostics;
using System.Text;

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
        var psi = new ProcessStartInfo(NpmPath.Value)
        {
            WorkingDirectory = workingDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);

        foreach (string key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("npm_config_", StringComparison.OrdinalIgnoreCase))
            {
                psi.Environment.Remove(key);
            }
        }
        // Isolate from ~/.npmrc (a non-existent userconfig is fine for npm).
        psi.Environment["npm_config_userconfig"] = Path.Combine(Path.GetTempPath(), "repolock-tests-no-such-npmrc");
        psi.Environment["npm_config_update_notifier"] = "false";
        psi.Environment["NO_UPDATE_NOTIFIER"] = "1";
        // Never send 127.0.0.1 traffic through a proxy configured in the environment.
        psi.Environment["npm_config_noproxy"] = "127.0.0.1,localhost";
        psi.Environment["NO_PROXY"] = AppendNoProxy(psi.Environment.TryGetValue("NO_PROXY", out var np) ? np : null);
        psi.Environment["no_proxy"] = AppendNoProxy(psi.Environment.TryGetValue("no_proxy", out var np2) ? np2 : null);

        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };

        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (!process.WaitForExit(Timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            process.WaitForExit(TimeSpan.FromSeconds(10));
            lock (output)
            {
                output.AppendLine($"[NpmCli] npm {string.Join(' ', args)} timed out after {Timeout.TotalSeconds:0}s and was killed.");
                return (-1, output.ToString());
            }
        }

        process.WaitForExit(); // flush async output readers
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string AppendNoProxy(string? existing) =>
        string.IsNullOrEmpty(existing) ? "127.0.0.1,localhost" : existing + ",127.0.0.1,localhost";

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
