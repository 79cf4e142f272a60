using System.Diagnostics;
using System.Globalization;

namespace RepoLock.Tests.Infrastructure;

/// <summary>TestHost <c>install</c> processes (the core without MSBuild), their outcome lines, and signals to pause them at a step.</summary>
internal static class HostInstalls
{
    public static ChildProcess Start(string repo, string registry, string npmCache, string spec, IDictionary<string, string?>? env = null) =>
        ChildProcess.Start("dotnet", [TestPaths.TestHostDll, "install", repo, registry, npmCache, "300", "4", spec], env: env);

    /// <summary>The outcome the process printed for its (first) adaptor, or "(none)".</summary>
    public static string Outcome(ChildProcess install) =>
        install.Stdout.Split('\n').FirstOrDefault(l => l.Contains("\"outcome\"", StringComparison.Ordinal)) is { } line
            ? System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("outcome").GetString()!
            : "(none)";

    /// <summary>kill -STOP / -CONT: a process paused at any instruction, as a VM freeze or a GC pause would.</summary>
    public static void Signal(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
