using System.Diagnostics;
using System.Text;

namespace RepoLock.Bench.Infrastructure;

/// <summary>The outcome of one child process: exit code, output and how long it ran (start to exit, by this process's stopwatch).</summary>
public sealed record ProcResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>Every output line with the time since the start, for a look at what a run spent its time on (kept with --keep-temp).</summary>
    public string Timeline { get; init; } = "";

    public string Output => Stdout + Stderr;

    /// <summary>The last lines of the output, for an error message.</summary>
    public string Tail(int lines = 15) => string.Join('\n', Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
}

/// <summary>
/// A child process with its output collected. Arguments go as a list; the environment is the bench's own with MSBuild node reuse and the
/// build server off (child builds must not outlive the bench or keep old task code loaded), npm's update check off, and loopback never proxied.
/// </summary>
public sealed class Proc : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _timeline = new();
    private readonly Stopwatch _clock = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];
    private readonly object _gate = new();

    private Proc(Process process) => _process = process;

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString() + _stderr;
            }
        }
    }

    public static Proc Start(string fileName, IEnumerable<string> args, string? workingDir = null, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // `dotnet run` may leave the SDK's own MSBuild location in the environment; a child build finds its SDK itself.
        foreach (var inherited in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            psi.Environment.Remove(inherited);
        }

        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["npm_config_update_notifier"] = "false";
        psi.Environment["npm_config_noproxy"] = "127.0.0.1,localhost";
        psi.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        var proc = new Proc(new Process { StartInfo = psi, EnableRaisingEvents = true });
        proc._process.OutputDataReceived += (_, e) => proc.OnLine(e.Data, proc._stdout);
        proc._process.ErrorDataReceived += (_, e) => proc.OnLine(e.Data, proc._stderr);
        proc._process.Exited += (_, _) => proc._clock.Stop();
        proc._clock.Start();
        proc._process.Start();
        proc._process.BeginOutputReadLine();
        proc._process.BeginErrorReadLine();
        return proc;
    }

    /// <summary>Runs to the end (killing the tree after <paramref name="timeout"/>).</summary>
    public static async Task<ProcResult> RunAsync(string fileName, IEnumerable<string> args, string? workingDir = null,
        IReadOnlyDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        using var proc = Start(fileName, args, workingDir, env);
        return await proc.WaitAsync(timeout ?? TimeSpan.FromMinutes(5)).ConfigureAwait(false);
    }

    public async Task<ProcResult> WaitAsync(TimeSpan timeout)
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

        _process.WaitForExit(); // flush the output readers
        _clock.Stop();
        lock (_gate)
        {
            _timeline.AppendLine($"[{_clock.Elapsed.TotalMilliseconds,7:0} ms] exit {(timedOut ? -1 : _process.ExitCode)}");
            return new ProcResult(timedOut ? -1 : _process.ExitCode, _stdout.ToString(), _stderr.ToString(), _clock.Elapsed, timedOut) { Timeline = _timeline.ToString() };
        }
    }

    /// <summary>Completes when a line containing <paramref name="text"/> is printed; throws if the process exits or the time runs out first.</summary>
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
        if (done != seen.Task)
        {
            throw new InvalidOperationException($"'{text}' not printed by {_process.StartInfo.FileName} ({(done == exited ? "it exited" : "timed out")}). Output:\n{Output}");
        }
    }

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGKILL (on Unix) the whole process tree.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
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
            _timeline.Append('[').Append(_clock.Elapsed.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture).PadLeft(7)).Append(" ms] ").AppendLine(line);
            foreach (var w in _waits.Where(w => line.Contains(w.Text, StringComparison.Ordinal)))
            {
                w.Seen.TrySetResult();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
