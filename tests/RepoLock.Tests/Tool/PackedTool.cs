using System.Text.Json.Nodes;
using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Tool;

/// <summary>
/// src/RepoLock.Tool packed once per test run with a version no earlier run used, into a temporary feed, then installed from it with
/// <c>dotnet tool install --tool-path</c> (with its own NUGET_PACKAGES) as a user would: the tests run that installed <c>repolock</c>.
/// </summary>
public sealed class PackedTool : IDisposable
{
    private static readonly TimeSpan DotnetTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly TempDir _dir = new("tool");

    public PackedTool()
    {
        Version = $"0.0.0-test.{DateTime.UtcNow.Ticks}";
        var feed = _dir.Combine("feed");
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = _dir.Combine("nuget-packages") };
        var project = Path.Combine(TestPaths.RepoRoot, "src", "RepoLock.Tool", "RepoLock.Tool.csproj");
        Dotnet(env, "pack", project, "-c", "Release", $"-p:Version={Version}", "-o", feed, "--artifacts-path", _dir.Combine("artifacts"), "-tl:off");
        Nupkg = Path.Combine(feed, $"RepoLock.Tool.{Version}.nupkg");
        ToolPath = _dir.Combine("tools");
        Dotnet(env, "tool", "install", "--tool-path", ToolPath, "--add-source", feed, "RepoLock.Tool", "--version", Version);
        Command = Path.Combine(ToolPath, OperatingSystem.IsWindows() ? "repolock.exe" : "repolock");
    }

    public string Version { get; }

    public string Nupkg { get; }

    public string ToolPath { get; }

    /// <summary>The installed <c>repolock</c> command (the shim dotnet tool install wrote).</summary>
    public string Command { get; }

    /// <summary>Runs <c>repolock</c> to the end, with REPOLOCK_REPO unset unless <paramref name="env"/> sets it.</summary>
    public async Task<ChildProcessResult> RunAsync(IDictionary<string, string?>? env, params string[] args)
    {
        var environment = new Dictionary<string, string?>(env ?? new Dictionary<string, string?>());
        environment.TryAdd("REPOLOCK_REPO", null);
        return await ChildProcess.RunAsync(Command, args, _dir.Path, environment, RunTimeout);
    }

    /// <summary>Runs <c>repolock ... --json</c> and parses its standard output.</summary>
    public async Task<(ChildProcessResult Result, JsonNode Json)> RunJsonAsync(IDictionary<string, string?>? env, params string[] args)
    {
        var result = await RunAsync(env, [.. args, "--json"]);
        JsonNode? json = null;
        try
        {
            json = JsonNode.Parse(result.Stdout);
        }
        catch (System.Text.Json.JsonException e)
        {
            Assert.Fail($"repolock {string.Join(' ', args)} --json printed no JSON ({e.Message}); exit {result.ExitCode}:\n{result.Output}");
        }

        return (result, json!);
    }

    public void Dispose() => _dir.Dispose();

    private void Dotnet(IDictionary<string, string?> env, params string[] args)
    {
        using var child = ChildProcess.Start("dotnet", args, _dir.Path, env);
        var code = child.WaitForExitAsync(DotnetTimeout).GetAwaiter().GetResult();
        if (code != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} failed ({code}):\n{child.Output}");
        }
    }
}
