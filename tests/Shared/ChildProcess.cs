using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RepoLock.Testing;

/// <summary>The outcome of one child process: exit code, output and how long it ran (start to exit, by this process's stopwatch).</summary>
public sealed record ChildProcessResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>Every output line with the time since the start, then the exit, for a look at what a run spent its time on.</summary>
    public string Timeline { get; init; } = "";

    /// <summary>When the process was started (<see cref="Stopwatch.GetTimestamp"/>): the origin of <see cref="Timeline"/>'s times.</summary>
    public long StartTimestamp { get; init; }

    public string Output => Stdout + Stderr;

    /// <summary>The last lines of the output, for an error message.</summary>
    public string Tail(int lines = 15) => string.Join('\n', Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
}

/// <summary>
/// A real child process of the tests or the bench, with its output collected; lines can be awaited (no sleeps as synchronisation).
/// Arguments go as a list, never through a shell. The environment is this process's own with the rules in <see cref="ApplyEnvironment"/>,
/// then the caller's variables (a null value removes one).
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const string Loopback = "127.0.0.1,localhost";

    /// <summary>
    /// MSBuild locations that MSBuild Locator (in the test process) or `dotnet run` (the bench) leave in this process's environment;
    /// a child `dotnet build` must find its own SDK and MSBuild.
    /// </summary>
    private static readonly string[] MSBuildLocationVariables =
        ["MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly"];

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _interleaved = new();
    private readonly StringBuilder _timeline = new();
    private readonly Stopwatch _clock = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];
    private readonly object _gate = new();
    private bool _exitRecorded;
    private long _startTimestamp;

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public string Stdout { get { lock (_gate) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_gate) { return _stderr.ToString(); } } }

    /// <summary>Stdout, then stderr.</summary>
    public string Output { get { lock (_gate) { return _stdout.ToString() + _stderr; } } }

    /// <summary>Stdout and stderr lines in the order they arrived.</summary>
    public string InterleavedOutput { get { lock (_gate) { return _interleaved.ToString(); } } }

    public StreamWriter StandardInput => _process.StandardInput;

    public bool HasExited => _process.HasExited;

    /// <param name="dropInherited">Inherited variables to leave out (before the rules and <paramref name="env"/> apply).</param>
    public static ChildProcess Start(string fileName, IEnumerable<string> args, string? workingDir = null,
        IEnumerable<KeyValuePair<string, string?>>? env = null, Func<string, bool>? dropInherited = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        ApplyEnvironment(psi.Environment, dropInherited, env);

        var child = new ChildProcess(new Process { StartInfo = psi, EnableRaisingEvents = true });
        child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._stdout);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._stderr);
        child._process.Exited += (_, _) => child._clock.Stop();
        child._clock.Start();
        child._startTimestamp = Stopwatch.GetTimestamp();
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs to the end (killing the tree after <paramref name="timeout"/>, 5 minutes unless given).</summary>
    public static async Task<ChildProcessResult> RunAsync(string fileName, IEnumerable<string> args, string? workingDir = null,
        IEnumerable<KeyValuePair<string, string?>>? env = null, TimeSpan? timeout = null)
    {
        using var child = Start(fileName, args, workingDir, env);
        return await child.WaitAsync(timeout ?? TimeSpan.FromMinutes(5)).ConfigureAwait(false);
    }

    /// <summary>
    /// The one place for a child's environment: no MSBuild node reuse or build server (child builds must not outlive the caller or
    /// keep old task code loaded), no telemetry or logo, no npm update check, loopback never proxied, and none of the MSBuild
    /// locations this process inherited.
    /// </summary>
    private static void ApplyEnvironment(IDictionary<string, string?> environment, Func<string, bool>? dropInherited,
        IEnumerable<KeyValuePair<string, string?>>? env)
    {
        foreach (var key in environment.Keys.ToList())
        {
            if (MSBuildLocationVariables.Contains(key, StringComparer.OrdinalIgnoreCase) || dropInherited?.Invoke(key) == true)
            {
                environment.Remove(key);
            }
        }

        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["npm_config_update_notifier"] = "false";
        environment["NO_UPDATE_NOTIFIER"] = "1";
        environment["npm_config_noproxy"] = Loopback;
        foreach (var name in new[] { "NO_PROXY", "no_proxy" })
        {
            environment[name] = WithLoopback(environment.TryGetValue(name, out var list) ? list : null);
        }

        foreach (var (k, v) in env ?? [])
        {
            if (v is null)
            {
                environment.Remove(k);
            }
            else
            {
                environment[k] = v;
            }
        }
    }

    /// <summary>A NO_PROXY list with loopback added (kept as it is where loopback is already in it).</summary>
    private static string WithLoopback(string? list)
    {
        if (string.IsNullOrEmpty(list))
        {
            return Loopback;
        }

        var entries = list.Split(',', StringSplitOptions.TrimEntries);
        var missing = Loopback.Split(',').Where(l => !entries.Contains(l, StringComparer.OrdinalIgnoreCase)).ToList();
        return missing.Count == 0 ? list : string.Join(',', [list, .. missing]);
    }

    private void OnLine(string? line, StringBuilder into)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            into.AppendLine(line);
            _interleaved.AppendLine(line);
            _timeline.Append(Stamp()).AppendLine(line);
            foreach (var w in _waits.Where(w => line.Contains(w.Text, StringComparison.Ordinal)))
            {
                w.Seen.TrySetResult();
            }
        }
    }

    private string Stamp() =>
        "[" + _clock.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture).PadLeft(7) + " ms] ";

    /// <summary>
    /// Completes when a line containing <paramref name="text"/> is printed (stdout or stderr), also when it was the last thing printed
    /// before the exit; throws <see cref="TimeoutException"/> if the process exits without it or the time runs out first.
    /// </summary>
    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        TaskCompletionSource seen;
        lock (_gate)
        {
            if ((_stdout.ToString() + _stderr).Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((text, seen));
        }

        var exited = _process.WaitForExitAsync();
        var done = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout)).ConfigureAwait(false);
        if (done == exited && await DrainedAsync().ConfigureAwait(false) && Output.Contains(text, StringComparison.Ordinal))
        {
            return; // printed just before exiting: the last lines arrive after the exit is noticed
        }

        if (done != seen.Task && !seen.Task.IsCompleted)
        {
            throw new TimeoutException($"'{text}' not printed by {_process.StartInfo.FileName} ({(done == exited ? "it exited" : "timed out")}). Output:\n{Output}");
        }
    }

    /// <summary>Waits (briefly) until the output handlers have seen everything the exited process wrote.</summary>
    private async Task<bool> DrainedAsync()
    {
        try
        {
            // The parameterless WaitForExit is the one that waits for the asynchronous output handlers.
            await Task.Run(() => _process.WaitForExit()).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false; // a grandchild still holds the pipe: go with what arrived
        }
    }

    /// <summary>
    /// Waits for the exit and all its output; after <paramref name="timeout"/> kills the tree and reports <see cref="ChildProcessResult.TimedOut"/>
    /// (exit code -1) instead of throwing.
    /// </summary>
    public async Task<ChildProcessResult> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var timedOut = false;
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            Kill();
        }

        if (timedOut)
        {
            await DrainedAsync().ConfigureAwait(false);
        }
        else
        {
            _process.WaitForExit(); // flush the output readers
        }

        _clock.Stop();
        var exitCode = timedOut ? -1 : _process.ExitCode;
        lock (_gate)
        {
            if (!_exitRecorded)
            {
                _timeline.Append(Stamp()).AppendLine(CultureInfo.InvariantCulture, $"exit {exitCode}");
                _exitRecorded = true;
            }

            return new ChildProcessResult(exitCode, _stdout.ToString(), _stderr.ToString(), _clock.Elapsed, timedOut)
            {
                Timeline = _timeline.ToString(),
                StartTimestamp = _startTimestamp,
            };
        }
    }

    /// <summary>The exit code; after <paramref name="timeout"/> kills the tree and throws <see cref="TimeoutException"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var result = await WaitAsync(timeout).ConfigureAwait(false);
        if (result.TimedOut)
        {
            throw new TimeoutException($"process {_process.StartInfo.FileName} did not exit within {timeout}. Output:\n{result.Output}");
        }

        return result.ExitCode;
    }

    /// <summary>Writes a line to the child's stdin and flushes it.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGKILL (on Unix) the whole process tree, and wait (up to 10 s) until the child is gone.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
