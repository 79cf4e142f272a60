using System.Reflection;

namespace RepoLock.Core;

/// <summary>This build of RepoLock, as recorded in sentinels and owner records.</summary>
internal static class RepoLockInfo
{
    public static readonly string Version =
        typeof(RepoLockInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
