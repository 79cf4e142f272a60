namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// The test side of the TestHost's <c>REPOLOCK_TEST_START_GATE</c>: every process prints READY and waits for the gate file, so a race starts
/// when all racers are up, not when each happens to finish starting .NET.
/// </summary>
internal sealed class StartGate(string path)
{
    public Dictionary<string, string?> Environment => new() { ["REPOLOCK_TEST_START_GATE"] = path };

    public async Task OpenWhenAllReadyAsync(IEnumerable<ChildProcess> racers)
    {
        foreach (var racer in racers)
        {
            await racer.WaitForLineAsync("READY", TimeSpan.FromMinutes(2));
        }

        File.WriteAllText(path, "");
    }
}
