using System.Runtime.CompilerServices;
using Microsoft.Build.Locator;

namespace RepoLock.Tests.MSBuild;

/// <summary>
/// Points Microsoft.Build at the .NET SDK's MSBuild before any MSBuild type is loaded (the test project references the
/// Microsoft.Build packages with ExcludeAssets=runtime, so no MSBuild assembly sits in the test output).
/// The locator also sets MSBuild locations in this process's environment; ChildProcess leaves them out of every child's.
/// </summary>
internal static class MSBuildLocatorSetup
{
#pragma warning disable CA2255 // a module initializer is the only hook that runs before xunit touches a test class
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (!MSBuildLocator.IsRegistered)
        {
            MSBuildLocator.RegisterDefaults(); // the SDK that global.json and the dotnet host running the tests resolve to
        }
    }
}
