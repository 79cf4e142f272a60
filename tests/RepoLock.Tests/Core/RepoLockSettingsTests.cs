namespace RepoLock.Tests.Core;

/// <summary>The one copy of every default and validation rule, used by the task, the test host and any front end.</summary>
public class RepoLockSettingsTests
{
    private static RepoLockSettings From(string name, string? value) => RepoLockSettings.FromProperties(new Dictionary<string, string?> { [name] = value });

    [Fact]
    public void Empty_properties_give_the_documented_defaults()
    {
        var settings = RepoLockSettings.FromProperties(RepoLockSettings.PropertyNames.ToDictionary(n => n, _ => (string?)""));

        Assert.Equal(TimeSpan.FromSeconds(900), settings.LockTimeout);
        Assert.Equal(TimeSpan.FromSeconds(300), settings.StaleAge);
        Assert.Equal(TimeSpan.FromSeconds(600), settings.InstallTimeout);
        Assert.Equal(4, settings.MaxParallel);
        Assert.Null(settings.NpmPath);
        Assert.Null(settings.Registry);
        Assert.False(settings.Offline);
        Assert.Equal(new RepoLockSettings(), settings);
    }

    [Theory]
    [InlineData("RepoLockStaleAge", "1")]
    [InlineData("RepoLockStaleAge", "abc")]
    [InlineData("RepoLockStaleAge", "-5")]
    [InlineData("RepoLockLockTimeout", "1.5")]
    [InlineData("RepoLockInstallTimeout", "0")]
    [InlineData("RepoLockMaxParallel", "0")]
    [InlineData("RepoLockOffline", "yes")]
    [InlineData("RepoLockRegistry", "ftp://example")]
    public void An_invalid_value_is_RL1006_naming_the_property(string name, string value)
    {
        var e = Assert.Throws<RepoLockException>(() => From(name, value));

        Assert.Equal(ErrorCodes.InvalidSetting, e.Code);
        Assert.Contains(name, e.Message);
        Assert.Contains($"'{value}'", e.Message);
    }

    [Fact]
    public void Settings_made_in_code_are_checked_by_the_same_rules()
    {
        var e = Assert.Throws<RepoLockException>(() => new RepoLockSettings { MaxParallel = 0 }.Validate());

        Assert.Equal(ErrorCodes.InvalidSetting, e.Code);
        Assert.Contains("RepoLockMaxParallel", e.Message);
    }

    [Fact]
    public void The_repo_checks_its_settings_before_anything_is_written()
    {
        using var dir = new RepoLock.Tests.Infrastructure.TempDir("settings");
        var repo = dir.Combine("repo");

        var e = Assert.Throws<RepoLockException>(() => new AdaptorRepo(repo, new RepoLockSettings { StaleAge = TimeSpan.FromSeconds(1) }));

        Assert.Equal(ErrorCodes.InvalidSetting, e.Code);
        Assert.False(Directory.Exists(repo));
    }

    [Fact]
    public void An_unknown_property_name_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => From("RepoLockStaleAgeSeconds", "300"));
    }
}
