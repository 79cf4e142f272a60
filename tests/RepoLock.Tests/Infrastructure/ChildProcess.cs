using System.Diagnostics;
using System.Text;

namespace RepoLock.Tests.Infrastructure;

/// <summary>A real child process with its output collected; lines can be awaited (no sleeps as synchronisation).</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Line, TaskCompletionSource Seen)> _waits = [];
    private readonly object _gate = new();

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public string Stdout { get { lock (_gate) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_gate) { return _stderr.ToString(); } } }

    public string Output => Stdout + Stderr;

    public StreamWriter StandardInput => _process.StandardInput;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string fileName, IEnumerable<string> args, string? workingDir = null, IDictionary<string, string?>? env = null)
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

        // Child builds must not reuse MSBuild nodes or the build server (they would keep old task code and outlive the test).
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["npm_config_update_notifier"] = "false";
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        var child = new ChildProcess(new Process { StartInfo = psi });
        child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._stdout);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._stderr);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public static ChildProcess Dotnet(params string[] args) => Start("dotnet", args);

    public static ChildProcess TestHost(params string[] args) => Start("dotnet", [TestPaths.TestHostDll, .. args]);

    private void OnLine(string? line, StringBuilder into)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            into.AppendLine(line);
            foreach (var w in _waits.Where(w => line.Contains(w.Line, StringComparison.Ordinal)))
            {
                w.Seen.TrySetResult();
            }
        }
    }

    /// <summary>Completes when a line containing <paramref name="text"/> is printed (stdout or stderr); fails if the process exits first.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        TaskCompletionSource seen;
        lock (_gate)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((text, seen));
        }

        var exited = _process.WaitForExitAsync();
        var done = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout));
        if (done == exited && await DrainedAsync() && Output.Contains(text, StringComparison.Ordinal))
        {
            return; // printed just before exiting: the last lines arrive after the exit is noticed
        }

        if (done != seen.Task && !seen.Task.IsCompleted)
        {
            throw new TimeoutException($"'{text}' not printed ({(done == exited ? "process exited" : "timed out")}). Output:\n{Output}");
        }
    }

    /// <summary>Waits (briefly) until the output handlers have seen everything the exited process wrote.</summary>
    private async Task<bool> DrainedAsync()
    {
        try
        {
            // The parameterless WaitForExit is the one that waits for the asynchronous output handlers.
            await Task.Run(() => _process.WaitForExit()).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (TimeoutException)
        {
            return false; // a grandchild still holds the pipe: go with what arrived
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"process {_process.StartInfo.FileName} did not exit within {timeout}. Output:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL the whole process tree.</summary>
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
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
