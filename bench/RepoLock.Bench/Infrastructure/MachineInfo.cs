using System.Runtime.InteropServices;

namespace RepoLock.Bench.Infrastructure;

/// <summary>The machine the figures were taken on, and how busy it was before and after (other engineers' builds share it).</summary>
public sealed record MachineInfo
{
    public required int Cores { get; init; }
    public required string Cpu { get; init; }
    public required double MemoryGiB { get; init; }
    public required string Os { get; init; }
    public required string Kernel { get; init; }
    public required string DotnetSdk { get; init; }
    public required string DotnetRuntime { get; init; }
    public required string Node { get; init; }
    public required string Npm { get; init; }
    public required string TempDir { get; init; }
    public required string TempFileSystem { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required Busy Before { get; init; }
    public Busy? After { get; set; }

    /// <summary>uptime's output, and the dotnet/node/npm processes running that are not this bench's own.</summary>
    /// <remarks>
    /// Other sandboxes on the same VM do not show up as processes here, but they do in the load average and in the kernel's pressure stall
    /// figures (/proc/pressure: the share of the last 60 s in which some task waited for CPU or I/O).
    /// </remarks>
    public sealed record Busy(string Uptime, double[] LoadAverage, int OtherDotnetProcesses, int OtherNodeProcesses, double? CpuPressure60, double? IoPressure60);

    public static async Task<MachineInfo> CaptureAsync()
    {
        var temp = Path.GetTempPath();
        return new MachineInfo
        {
            Cores = Environment.ProcessorCount,
            Cpu = CpuModel(),
            MemoryGiB = Math.Round(MemTotalKiB() / 1024.0 / 1024.0, 1),
            Os = OsName(),
            Kernel = KernelName(),
            DotnetSdk = await VersionOf("dotnet", "--version"),
            DotnetRuntime = RuntimeInformation.FrameworkDescription,
            Node = await VersionOf("node", "--version"),
            Npm = await VersionOf("npm", "--version"),
            TempDir = temp,
            TempFileSystem = FileSystemOf(temp),
            StartedAt = DateTimeOffset.UtcNow,
            Before = await BusyNowAsync(),
        };
    }

    public static async Task<Busy> BusyNowAsync()
    {
        var uptime = await VersionOf("uptime", null);
        double[] load = [];
        try
        {
            load = File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
        }

        var (dotnet, node) = CountOthers();
        return new Busy(uptime, load, dotnet, node, Pressure("cpu"), Pressure("io"));
    }

    public bool OthersWereBusy => IsBusy(Before) || (After is { } a && IsBusy(a));

    private static bool IsBusy(Busy b) => b.OtherDotnetProcesses > 0 || b.OtherNodeProcesses > 0 || (b.LoadAverage.Length > 0 && b.LoadAverage[0] > 0.5)
                                          || b.CpuPressure60 > 10 || b.IoPressure60 > 10;

    /// <summary>The "some avg60" figure of /proc/pressure/&lt;resource&gt;, in percent.</summary>
    private static double? Pressure(string resource)
    {
        try
        {
            var some = File.ReadLines($"/proc/pressure/{resource}").First(l => l.StartsWith("some", StringComparison.Ordinal));
            var avg60 = some.Split(' ').First(f => f.StartsWith("avg60=", StringComparison.Ordinal));
            return double.Parse(avg60["avg60=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (int Dotnet, int Node) CountOthers()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }

        // Ours: this process, its ancestors (dotnet run) and everything they started (dotnet run's build nodes, still exiting).
        var ours = new HashSet<int>();
        for (var pid = Environment.ProcessId; pid > 1 && ours.Add(pid);)
        {
            pid = ParentOf(pid);
        }

        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                parents[pid] = ParentOf(pid);
            }
        }

        bool IsOurs(int pid)
        {
            for (var i = 0; i < 64 && pid > 1; i++, pid = parents.GetValueOrDefault(pid))
            {
                if (ours.Contains(pid))
                {
                    return true;
                }
            }

            return false;
        }

        int dotnet = 0, node = 0;
        foreach (var pid in parents.Keys.Where(p => !IsOurs(p)))
        {
            var dir = $"/proc/{pid}";
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("VBCSCompiler", StringComparison.Ordinal))
                {
                    continue; // the compiler server a build leaves behind, idle
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (comm is "dotnet" || comm.StartsWith("MSBuild", StringComparison.Ordinal))
            {
                dotnet++;
            }
            else if (comm is "node" or "npm" or "npm-cli")
            {
                node++;
            }
        }

        return (dotnet, node);
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private static string KernelName()
    {
        try
        {
            return $"Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()} {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return RuntimeInformation.OSDescription;
        }
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static long MemTotalKiB()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024;
        }
    }

    private static string OsName()
    {
        try
        {
            var line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (line is not null)
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return RuntimeInformation.OSDescription;
    }

    /// <summary>The file system type of the mount that holds <paramref name="path"/> (longest matching mount point in /proc/mounts).</summary>
    private static string FileSystemOf(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            var best = File.ReadLines("/proc/mounts")
                .Select(l => l.Split(' '))
                .Where(f => f.Length > 2 && (full == f[1] || full.StartsWith(f[1].TrimEnd('/') + "/", StringComparison.Ordinal)))
                .MaxBy(f => f[1].Length);
            return best is null ? "unknown" : $"{best[2]} ({best[0]} on {best[1]})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static async Task<string> VersionOf(string tool, string? arg)
    {
        try
        {
            var result = await ChildProcess.RunAsync(tool, arg is null ? [] : [arg], timeout: TimeSpan.FromSeconds(30));
            return result.ExitCode == 0 ? result.Stdout.Trim() : $"unavailable (exit {result.ExitCode})";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not found";
        }
    }
}
