using System.Runtime.CompilerServices;
using Microsoft.Build.Locator;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// Points Microsoft.Build at the .NET SDK's MSBuild before any MSBuild type is loaded (the test project references the
/// Microsoft.Build packages with ExcludeAssets=runtime, so no MSBuild assembly sits in the test output).
/// </summary>
internal static class MSBuildLocatorSetup
{
#pragma warning disable CA2255 // a module initializer is the only hook that runs before xunit touches a test class
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (MSBuildLocator.IsRegistered)
        {
            return;
        }

        // The SDK that runs these tests: the instance whose MSBuild matches the dotnet host we run on.
        var instance = MSBuildLocator.QueryVisualStudioInstances()
            .Where(i => i.DiscoveryType == DiscoveryType.DotNetSdk)
            .OrderByDescending(i => i.Version)
            .FirstOrDefault();
        if (instance is null)
        {
            MSBuildLocator.RegisterDefaults();
        }
        else
        {
            MSBuildLocator.RegisterInstance(instance);
        }
    }
}
