using System.Reflection;

namespace RepoLock.Core;

public static class RepoLockInfo
{
    public static readonly string Version =
        typeof(RepoLockInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
