using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RepoLock.Core.Platform;

/// <summary>
/// Who this process is, in terms another process on the same volume can check: host name, a machine identity that
/// differs per container (boot id + PID namespace), process id and start time.
/// </summary>
internal sealed partial record MachineIdentity(string Host, string MachineId, int ProcessId, string ProcessStart)
{
    private static readonly Lazy<MachineIdentity> CurrentLazy = new(Read);

    public static MachineIdentity Current => CurrentLazy.Value;

    /// <summary>
    /// Whether a record written by a process with <paramref name="machineId"/> on <paramref name="host"/> was written on this machine, so
    /// that "its process is not running here" proves it dead. Every identity must agree: agents restored from one memory snapshot (microVM
    /// CI runners) share the boot id, and the initial PID namespace has the same inode on every kernel, so the machine id alone is not a
    /// proof; the host name must match too. Otherwise the lease decides.
    /// </summary>
    public bool IsSameMachine(string machineId, string host) =>
        machineId == MachineId && string.Equals(host, Host, StringComparison.Ordinal) && !machineId.StartsWith("host:", StringComparison.Ordinal);

    private static MachineIdentity Read()
    {
        var pid = Environment.ProcessId;
        return new MachineIdentity(SafeHostName(), ReadMachineId(), pid, ProcessStartOf(pid) ?? "unknown");
    }

    /// <summary>
    /// True unless the process is provably gone: kill(pid, 0) says no such process (ESRCH), or /proc (when it is this PID namespace's own)
    /// shows the pid as a zombie or as a process started at another time (a reused pid). Any doubt is "alive": EPERM (another user's
    /// process), an unreadable /proc/&lt;pid&gt; (hidepid, another user), a /proc of another PID namespace, any other error.
    /// </summary>
    public static bool IsProcessAlive(int pid, string processStart)
    {
        if (!OperatingSystem.IsLinux())
        {
            var actual = ProcessStartOf(pid);
            return actual is not null && actual == processStart;
        }

        if (pid <= 0)
        {
            return true; // kill(0 or negative) addresses process groups: it proves nothing about one process
        }

        if (kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() == 3 /* ESRCH */)
        {
            return false;
        }

        // The pid exists (or we may not signal it: EPERM). It is the recorded process unless /proc, read in our own namespace, says otherwise.
        if (!ProcIsOurs())
        {
            return true;
        }

        var state = ReadProcStat(pid);
        return state switch
        {
            null => true, // unreadable (hidepid, another user) or gone this instant: doubt
            ("Z" or "X", _) => false,
            (_, var start) => start == processStart,
        };
    }

    /// <summary>A token that identifies one process incarnation: the start time from /proc (clock ticks since boot) on Linux.</summary>
    public static string? ProcessStartOf(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            return ReadProcStat(pid) is ({ } state, { } start) && state is not ("Z" or "X") ? start : null;
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

    /// <summary>Whether /proc shows this PID namespace (it may be the host's, when a namespace was made without --mount-proc).</summary>
    private static bool ProcIsOurs()
    {
        try
        {
            return new DirectoryInfo("/proc/self").LinkTarget == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Fields 3 (state) and 22 (starttime) of /proc/&lt;pid&gt;/stat, or null if it cannot be read.</summary>
    private static (string State, string Start)? ReadProcStat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Field 2 (comm) is in parentheses and may hold spaces; fields after the last ')' are plain.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // A zombie (Z) or dead (X) process is gone, even while its parent has not reaped it yet (common in containers whose PID 1 does not reap).
            return (rest[0], rest[19]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
