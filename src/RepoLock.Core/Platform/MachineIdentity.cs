using System.Diagnostics;

namespace RepoLock.Core.Platform;

/// <summary>
/// Who this process is, in terms another process on the same volume can check: host name, a machine identity that
/// differs per container (boot id + PID namespace), process id and start time.
/// </summary>
internal sealed record MachineIdentity(string Host, string MachineId, int ProcessId, string ProcessStart)
{
    private static readonly Lazy<MachineIdentity> CurrentLazy = new(Read);

    public static MachineIdentity Current => CurrentLazy.Value;

    private static MachineIdentity Read()
    {
        var pid = Environment.ProcessId;
        return new MachineIdentity(SafeHostName(), ReadMachineId(), pid, ProcessStartOf(pid) ?? "unknown");
    }

    /// <summary>True unless the process is provably gone: no such pid here, or a pid reused by a process started at another time.</summary>
    public static bool IsProcessAlive(int pid, string processStart)
    {
        var actual = ProcessStartOf(pid);
        return actual is not null && actual == processStart;
    }

    /// <summary>A token that identifies one process incarnation: the start time from /proc (clock ticks since boot) on Linux.</summary>
    public static string? ProcessStartOf(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // Field 2 (comm) is in parentheses and may hold spaces; fields after the last ')' are plain.
                var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Field 3: a zombie (Z) or dead (X) process is gone, even while its parent has not reaped it yet
                // (common in containers whose PID 1 does not reap).
                return rest[0] is "Z" or "X" ? null : rest[19]; // field 22: starttime
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        try
        {
            using var p = Process.GetProcessById(pid);
            return p.StartTime.ToUniversalTime().Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string ReadMachineId()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
                var ns = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "pid:[?]";
                return $"{boot}/{ns}";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // fall through: no proof of sameness possible, so fast recovery stays off
            }
        }

        return $"host:{SafeHostName()}:{Guid.NewGuid():N}";
    }

    private static string SafeHostName()
    {
        try
        {
            return Environment.MachineName;
        }
        catch (InvalidOperationException)
        {
            return "unknown-host";
        }
    }
}
