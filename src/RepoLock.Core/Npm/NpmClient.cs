using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;

using RepoLock.Core.Diagnostics;

namespace RepoLock.Core.Npm;

/// <summary>The npm CLI, run as a child process with its arguments as a list. Never run in the repo root (npm would prune adaptors it does not know).</summary>
internal sealed class NpmClient
{
    private readonly NpmSettings _settings;
    private readonly IProcessRunner _runner;

    public NpmClient(NpmSettings settings, IProcessRunner? runner = null)
    {
        _settings = settings;
        _runner = runner ?? ProcessRunner.Instance;
    }

    /// <summary>
    /// Installs one adaptor into a private staging folder: <c>&lt;staging&gt;/node_modules/&lt;alias&gt;</c> with all its dependencies nested
    /// inside it (shallow strategy). Returns the integrity npm recorded for it.
    /// </summary>
    public async Task<string?> InstallAsync(string stagingDir, AdaptorSpecifier spec, CancellationToken cancellationToken)
    {
        // A package.json of its own stops npm from walking up to the repo's manifest and installing there.
        File.WriteAllText(Path.Combine(stagingDir, "package.json"), "{ \"name\": \"repolock-staging\", \"private\": true }\n");
        var args = new List<string>
        {
            "install", "--install-strategy=shallow", "--no-package-lock", "--no-audit", "--no-fund",
            "--prefix", stagingDir,
        };
        if (_settings.IgnoreScripts)
        {
            args.Add("--ignore-scripts"); // as the OpenFn runtime installs adaptors: a shared cache runs no package's scripts on every agent
        }

        AddCommon(args);
        args.Add($"{spec.Alias}@npm:{spec.Name}@{spec.VersionText}");

        var result = await RunAsync(stagingDir, args, spec.ToString(), cancellationToken).ConfigureAwait(false);
        if (result.TimedOut)
        {
            throw Errors.NpmTimeout(spec.ToString(), _settings.InstallTimeout);
        }

        if (result.ExitCode != 0)
        {
            throw Errors.Npm(spec.ToString(), result.ExitCode, ErrorLines(result.Output));
        }

        return ReadIntegrity(stagingDir, spec.Alias);
    }

    /// <summary>
    /// <c>npm pack &lt;spec&gt;...</c> into <paramref name="destination"/> (also the working folder): the published tarballs, through npm's
    /// cache and configured registry (<c>--offline</c>: the cache only); npm checks each against the registry's integrity as it fetches.
    /// </summary>
    /// <returns>null when npm succeeded, otherwise its error lines.</returns>
    public async Task<string?> PackAsync(IReadOnlyList<string> specs, string destination, CancellationToken cancellationToken)
    {
        var args = new List<string> { "pack", "--ignore-scripts", "--pack-destination", destination };
        args.AddRange(specs);
        AddCommon(args);
        var result = await RunAsync(destination, args, string.Join(", ", specs), cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 && !result.TimedOut ? null : ErrorLines(result.Output);
    }

    /// <summary>Resolves a dist-tag (latest, next, ...) to an exact version with <c>npm view</c>.</summary>
    public async Task<string> ResolveTagAsync(string name, string tag, string workingDir, CancellationToken cancellationToken)
    {
        var args = new List<string> { "view", $"{name}@{tag}", "version", "--json" };
        AddCommon(args);
        var result = await RunAsync(workingDir, args, $"{name}@{tag}", cancellationToken).ConfigureAwait(false);
        if (result.TimedOut)
        {
            throw Errors.TagFailed(name, tag, "npm view timed out");
        }

        if (result.ExitCode != 0)
        {
            throw Errors.TagFailed(name, tag, ErrorLines(result.Output));
        }

        try
        {
            // npm prints the version as a JSON string, or an array when several versions match.
            var json = result.Output.Trim();
            var node = JsonNode.Parse(json[json.IndexOfAny(['"', '['])..]);
            var version = node is JsonArray array ? array[^1]?.GetValue<string>() : node?.GetValue<string>();
            return version ?? throw new FormatException("no version in npm's answer");
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw Errors.TagFailed(name, tag, $"unexpected answer from npm view: {result.Output.Trim()}");
        }
    }

    private void AddCommon(List<string> args)
    {
        if (!string.IsNullOrEmpty(_settings.Registry))
        {
            args.Add("--registry");
            args.Add(_settings.Registry);
        }

        if (_settings.Offline)
        {
            args.Add("--offline");
        }

        if (!string.IsNullOrEmpty(_settings.CacheDir))
        {
            args.Add("--cache");
            args.Add(_settings.CacheDir);
        }
    }

    private async Task<ProcessResult> RunAsync(string workingDir, List<string> args, string subject, CancellationToken cancellationToken)
    {
        var spec = new ProcessSpec(_settings.NpmPath, args, workingDir, _settings.InstallTimeout)
        {
            Environment = new Dictionary<string, string?>
            {
                ["npm_config_update_notifier"] = "false",
                ["npm_config_fund"] = "false",
                ["npm_config_audit"] = "false",
                ["NO_COLOR"] = "1",
            },
        };
        try
        {
            return await _runner.RunAsync(spec, cancellationToken).ConfigureAwait(false);
        }
        catch (Win32Exception e)
        {
            throw Errors.NoNpm(_settings.NpmPath, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw Errors.WasCancelled(subject);
        }
    }

    /// <summary>npm's own error lines, or its last lines when it printed none marked as errors.</summary>
    internal static string ErrorLines(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("npm error", StringComparison.Ordinal) || l.StartsWith("npm ERR!", StringComparison.Ordinal))
            .Where(l => !l.Contains("A complete log of this run", StringComparison.Ordinal))
            .Take(20).ToList();
        return string.Join(Environment.NewLine, errors.Count > 0 ? errors : lines.TakeLast(20));
    }

    /// <summary>The integrity npm recorded in its hidden lockfile for the adaptor, if any.</summary>
    internal static string? ReadIntegrity(string stagingDir, string alias)
    {
        try
        {
            var hidden = JsonNode.Parse(File.ReadAllText(Path.Combine(stagingDir, "node_modules", ".package-lock.json")));
            return hidden?["packages"]?[$"node_modules/{alias}"]?["integrity"]?.GetValue<string>();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
