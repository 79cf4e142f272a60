using System.Globalization;
using System.Text.RegularExpressions;
using NuGet.Versioning;

namespace RepoLock.Core.Bundle;

/// <summary>
/// Whether an installed version satisfies a dependency range as npm writes them (<c>^1.2.0</c>, <c>~1.2</c>, <c>1.x</c>,
/// <c>&gt;=1 &lt;3</c>, <c>1.2.3 - 2</c>, <c>a || b</c>). Used only to find a hoisted package that does not fit an adaptor's range, so it
/// answers null (cannot tell) for anything it does not fully understand: tags, URLs, <c>npm:</c> aliases, prerelease versions.
/// </summary>
internal static partial class NpmRange
{
    public static bool? Satisfies(string range, string version)
    {
        if (!SemanticVersion.TryParse(version.Trim().TrimStart('v'), out var v) || v.IsPrerelease)
        {
            return null;
        }

        var any = false;
        foreach (var alternative in range.Split("||"))
        {
            var comparators = Parse(alternative.Trim());
            if (comparators is null)
            {
                return null;
            }

            any |= comparators.TrueForAll(c => c(v));
        }

        return any;
    }

    private static List<Func<SemanticVersion, bool>>? Parse(string range)
    {
        if (range is "" or "*" or "x" or "X")
        {
            return [];
        }

        if (Hyphen().Match(range) is { Success: true } h)
        {
            var (low, high) = (Partial(h.Groups[1].Value), Partial(h.Groups[2].Value));
            return low is null || high is null ? null : [.. Bound(">=", low.Value), .. Bound("<=", high.Value)];
        }

        var result = new List<Func<SemanticVersion, bool>>();
        foreach (var token in OperatorSpace().Replace(range, "$1").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = Comparator().Match(token);
            var p = m.Success ? Partial(token[m.Groups[1].Length..]) : null;
            if (p is null)
            {
                return null;
            }

            result.AddRange(Bound(m.Groups[1].Value, p.Value));
        }

        return result;
    }

    private readonly record struct Part(int? Major, int? Minor, int? Patch, string Pre);

    private static Part? Partial(string text)
    {
        var m = Version().Match(text);
        if (!m.Success)
        {
            return null;
        }

        static int? N(Group g) => g.Success && g.Value is not ("x" or "X" or "*") ? int.Parse(g.Value, CultureInfo.InvariantCulture) : null;
        var (major, minor, patch) = (N(m.Groups[1]), N(m.Groups[2]), N(m.Groups[3]));
        minor = major is null ? null : minor;
        patch = minor is null ? null : patch;
        return new Part(major, minor, patch, m.Groups[4].Value);
    }

    private static SemanticVersion V(int major, int minor, int patch, string pre = "") => new(major, minor, patch, pre);

    private static IEnumerable<Func<SemanticVersion, bool>> Between(SemanticVersion low, SemanticVersion high) =>
        [v => v >= low, v => v < high];

    private static IEnumerable<Func<SemanticVersion, bool>> Bound(string op, Part p)
    {
        if (p.Major is not { } major)
        {
            return op is "<" or ">" ? [_ => false] : [];
        }

        var (minor, patch) = (p.Minor ?? 0, p.Patch ?? 0);
        var floor = V(major, minor, patch, p.Pre);
        var next = p.Minor is null ? V(major + 1, 0, 0) : p.Patch is null ? V(major, minor + 1, 0) : null;
        return op switch
        {
            "" or "=" => next is null ? [v => v == floor] : Between(floor, next),
            "~" or "~>" => Between(floor, p.Minor is null ? V(major + 1, 0, 0) : V(major, minor + 1, 0)),
            "^" => Between(floor,
                major > 0 || p.Minor is null ? V(major + 1, 0, 0)
                : minor > 0 || p.Patch is null ? V(0, minor + 1, 0)
                : V(0, 0, patch + 1)),
            ">" => next is null ? [v => v > floor] : [v => v >= next],
            ">=" => [v => v >= floor],
            "<" => [v => v < floor],
            "<=" => next is null ? [v => v <= floor] : [v => v < next],
            _ => [_ => false],
        };
    }

    [GeneratedRegex(@"^(\S+)\s+-\s+(\S+)$")]
    private static partial Regex Hyphen();

    [GeneratedRegex(@"(<=|>=|<|>|=|~>|~|\^)\s+")]
    private static partial Regex OperatorSpace();

    [GeneratedRegex(@"^(<=|>=|<|>|=|~>|~|\^)?")]
    private static partial Regex Comparator();

    [GeneratedRegex(@"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex Version();
}
