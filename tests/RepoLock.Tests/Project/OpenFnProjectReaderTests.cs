using RepoLock.Tests.Infrastructure;

namespace RepoLock.Tests.Project;

/// <summary>
/// <see cref="AdaptorList"/> over OpenFn project files, in each format OpenFn/kit reads: which adaptors come out, and each error's code,
/// file, line and column.
/// </summary>
public sealed class OpenFnProjectReaderTests : IDisposable
{
    private readonly TempDir _dir = new("project");

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static AdaptorList Read(params string[] files)
    {
        var list = new AdaptorList();
        foreach (var file in files)
        {
            list.AddProjectFile(file);
        }

        return list;
    }

    private static List<string> Names(AdaptorList list) => list.Adaptors.Select(a => a.ToString()).ToList();

    [Fact]
    public void A_deploy_project_yaml_gives_each_jobs_adaptor_once_and_skips_a_job_without_one()
    {
        var file = Write("project.yaml", """
            name: hiv
            workflows:
              hiv-indicators:
                name: hiv indicators
                jobs:
                  check-files:
                    adaptor: '@openfn/language-sftp@2.0.14'
                  upload:
                    adaptor: '@openfn/language-dhis2@6.3.4'
                  notes:
                    body: fn(s => s)
              second:
                jobs:
                  again:
                    adaptor: "@openfn/language-dhis2@6.3.4"
                  latest:
                    adaptor: '@openfn/language-http@latest'
            """);

        var list = Read(file);

        Assert.Empty(list.Errors);
        Assert.Equal(["@openfn/language-sftp@2.0.14", "@openfn/language-dhis2@6.3.4", "@openfn/language-http@latest"], Names(list));
    }

    [Fact]
    public void A_v2_project_file_with_a_workflow_list_and_steps_gives_the_steps_adaptors_and_not_the_triggers()
    {
        var file = Write("project.yaml", """
            id: sample
            schema_version: '4.0'
            workflows:
              - id: sync
                steps:
                  - id: webhook
                    type: webhook
                  - id: get
                    adaptor: '@openfn/language-http@7.2.10'
                    next: { tidy: true }
                  - id: tidy
                    adaptor: '@openfn/language-common@3.3.4'
            """);

        var list = Read(file);

        Assert.Empty(list.Errors);
        Assert.Equal(["@openfn/language-http@7.2.10", "@openfn/language-common@3.3.4"], Names(list));
    }

    [Theory]
    [InlineData("""{ "workflow": { "steps": [ { "id": "a", "adaptor": "@openfn/language-http@7.2.10" }, { "id": "b", "adaptors": ["@openfn/language-common@3.3.4", "@openfn/language-http@7.2.10"] } ] }, "options": {} }""")]
    [InlineData("{\n\t\"steps\": [\n\t\t{ \"adaptors\": [\"http@7.2.10\"] },\n\t\t{ \"adaptor\": \"common@3.3.4\", \"expression\": \"fn(s => s)\" }\n\t]\n}")]
    [InlineData("""{ "jobs": [ { "adaptor": "@openfn/language-http@7.2.10" }, { "adaptor": "@openfn/language-common@3.3.4" } ] }""")]
    public void A_CLI_workflow_json_in_each_shape_gives_its_steps_adaptors_with_shorthand_names_expanded(string json)
    {
        var list = Read(Write("workflow.json", json));

        Assert.Empty(list.Errors);
        Assert.Equal(["@openfn/language-common@3.3.4", "@openfn/language-http@7.2.10"], Names(list).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_bad_specifier_is_its_parse_error_at_the_line_and_column_of_the_value()
    {
        var file = Write("project.yaml", "workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '@openfn/language-http@^7.2.0'\n");

        var error = Assert.Single(Read(file).Errors);

        Assert.Equal((ErrorCodes.InvalidVersion, file, 5, 18), (error.Code, error.File, error.Line, error.Column));
    }

    [Fact]
    public void A_path_adaptor_is_RL1010_at_its_value()
    {
        var file = Write("workflow.json", "{\n  \"steps\": [\n    { \"adaptor\": \"@openfn/language-common=/repo/adaptors/packages/common\" }\n  ]\n}\n");

        var list = Read(file);

        var error = Assert.Single(list.Errors);
        Assert.Equal((ErrorCodes.PathAdaptor, file, 3, 18), (error.Code, error.File, error.Line, error.Column));
        Assert.Empty(list.Adaptors);
    }

    [Fact]
    public void A_missing_file_is_RL1008_naming_it()
    {
        var missing = _dir.Combine("no-such.yaml");

        var error = Assert.Single(Read(missing).Errors);

        Assert.Equal((ErrorCodes.ProjectFileMissing, missing), (error.Code, error.File));
    }

    [Theory]
    [InlineData("name: just a name\nsettings:\n  a: 1\n", 1, 1)]
    [InlineData("- a\n- b\n", 1, 1)]
    [InlineData("workflows:\n  wf:\n    jobs: [unclosed\n", 4, 1)]
    [InlineData("workflows:\n  wf:\n    jobs: 3\n", 3, 11)]
    public void A_file_in_neither_format_is_RL1009_with_a_line_and_column(string text, int line, int column)
    {
        var file = Write("other.yaml", text);

        var error = Assert.Single(Read(file).Errors);

        Assert.Equal((ErrorCodes.NotAProjectFile, file, line, column), (error.Code, error.File, error.Line, error.Column));
    }

    [Fact]
    public void An_explicit_item_with_another_version_is_RL1011_at_the_project_value_naming_the_items_project()
    {
        var file = Write("project.yaml", "workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '@openfn/language-http@7.2.10'\n");
        var list = new AdaptorList();

        list.AddItem("@openfn/language-http", "7.1.0", "/src/consumer.csproj");
        list.AddProjectFile(file);

        var error = Assert.Single(list.Errors);
        Assert.Equal((ErrorCodes.ProjectConflictsWithItem, file, 5, 18), (error.Code, error.File, error.Line, error.Column));
        Assert.Contains("/src/consumer.csproj", error.Message, StringComparison.Ordinal);
        Assert.Contains("@openfn/language-http@7.2.10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_item_with_the_same_version_merges_into_one_adaptor_whichever_comes_first()
    {
        var file = Write("project.yaml", "workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '@openfn/language-http@7.2.10'\n      b:\n        adaptor: '@openfn/language-common@3.3.4'\n");
        var list = new AdaptorList();

        list.AddProjectFile(file);
        list.AddItem("@openfn/language-http@7.2.10", null, "/src/consumer.csproj");
        list.AddItem("@openfn/language-dhis2@6.3.4", null, "/src/consumer.csproj");

        Assert.Empty(list.Errors);
        Assert.Equal(["@openfn/language-http@7.2.10", "@openfn/language-common@3.3.4", "@openfn/language-dhis2@6.3.4"], Names(list));
    }

    [Fact]
    public void A_bad_item_is_located_in_its_defining_project()
    {
        var list = new AdaptorList();

        list.AddItem("@openfn/Language-HTTP@7.2.10", null, "/src/consumer.csproj");

        var error = Assert.Single(list.Errors);
        Assert.Equal((ErrorCodes.InvalidName, "/src/consumer.csproj"), (error.Code, error.File));
    }

    [Fact]
    public void A_failure_about_an_adaptor_is_located_where_it_was_named()
    {
        var file = Write("project.yaml", "workflows:\n  wf:\n    jobs:\n      a:\n        adaptor: '@openfn/language-http@7.2.10'\n");
        var list = new AdaptorList();
        list.AddItem("@openfn/language-common@3.3.4", null, "/src/adaptors.props");
        list.AddProjectFile(file);
        var failure = new RepoLockException(ErrorCodes.NpmFailed, "npm install failed");

        var fromItem = list.Locate(failure.About(AdaptorSpecifier.Parse("@openfn/language-common@3.3.4")));
        var fromFile = list.Locate(failure.About(AdaptorSpecifier.Parse("@openfn/language-http@7.2.10")));
        var unknown = list.Locate(failure.About(AdaptorSpecifier.Parse("@openfn/language-dhis2@6.3.4")));
        var aboutNone = list.Locate(failure);

        Assert.Equal(("/src/adaptors.props", 0, 0), (fromItem.File, fromItem.Line, fromItem.Column));
        Assert.Equal((file, 5, 18), (fromFile.File, fromFile.Line, fromFile.Column));
        Assert.Null(unknown.File);
        Assert.Null(aboutNone.File);
        Assert.Equal(ErrorCodes.NpmFailed, fromFile.Code);
    }
}
