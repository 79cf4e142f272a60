using System.Globalization;

namespace RepoLock.Testing;

/// <summary>
/// CPU time (user + system) of every child this process (bench or tests) started and reaped, with their own reaped descendants (npm under a build):
/// the cutime and cstime of /proc/self/stat. The difference across a race is the CPU that race cost the machine.
/// </summary>
public static class ChildCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux the bench runs on (getconf CLK_TCK)

    public static double? Seconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the comm field: state is field 3, so cutime (16) and cstime (17) are at indexes 13 and 14.
            return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
