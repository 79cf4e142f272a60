using System.Diagnostics;
using System.Globalization;
using System.Text;
using RepoLock.Bench.Infrastructure;
using RepoLock.Core;
using RepoLock.Core.Bundle;

namespace RepoLock.Bench.Measurements;

/// <summary>
/// 9. What the install digest costs, side by side with the install it is part of: the real <c>@openfn/language-http@7.2.10</c> from the
/// npm registry (the yardstick), installed through the core, then its digest computed again on the installed folder (what the
/// installer does in staging, and what a bundle and <c>repolock verify</c> do) and verified.
/// </summary>
public static class DigestCost
{
    public static readonly AdaptorSpecifier Adaptor = AdaptorSpecifier.Parse("@openfn/language-http@7.2.10");

    public static async Task<Section> RunAsync(BenchContext ctx)
    {
        var runs = ctx.Options.Smoke ? 1 : 3;
        var section = new Section { Id = "digest", Number = 9, Title = "Install digest cost (real @openfn/language-http@7.2.10)" };
        section.Method = $"{runs} times: a fresh repo and a fresh npm cache, `EnsureInstalledAsync` of {Adaptor} from the real npm registry (wall time, digest " +
                         "included), then, on the installed folder, the digest listing (`ContentDigest.Listing`, the installer's call) and a verification " +
                         "(`ContentDigest.Difference`, the bundle's and `repolock verify`'s call), each timed alone, and the registry check (`RepoLockVerifyAgainstRegistry`: one `npm pack` of every package copy through the " +
                         "install's npm cache, then every file compared byte for byte) on the same copies. The share is the listing time over the " +
                         "install time minus the listing time (the install without its digest).";
        section.Columns = ["Run", "Install (s)", "Digest (s)", "Share of install", "Verify (s)", "Registry check (s)", "Packages", "Files", "Listing (bytes)"];
        var shares = new List<double>();
        for (var run = 1; run <= runs; run++)
        {
            var layout = new RepoLayout(ctx.NewFolder($"digest-repo-{run}"));
            var settings = new RepoLockSettings { CreateRepoDir = true, NpmCacheDir = ctx.NewFolder($"digest-npm-cache-{run}"), InstallTimeout = TimeSpan.FromMinutes(10) };
            var clock = Stopwatch.StartNew();
            var result = await new AdaptorRepo(layout, settings).EnsureInstalledAsync([Adaptor], CancellationToken.None);
            var install = clock.Elapsed.TotalSeconds;
            if (!result.Succeeded)
            {
                throw new InvalidOperationException("installing " + Adaptor + " failed: " + string.Join("; ", result.Failures.Select(f => $"{f.Code} {f.Message}")));
            }

            var folder = layout.AdaptorDir(Adaptor.Alias);
            clock.Restart();
            var listing = ContentDigest.Listing(layout.Root, folder);
            var digest = clock.Elapsed.TotalSeconds;
            var recorded = new RepoInspector(layout.Root).Inspect().Adaptors.Single(a => a.Alias == Adaptor.Alias).Digest ?? "";
            clock.Restart();
            var difference = ContentDigest.Difference(layout.Root, folder, recorded, listing);
            var verify = clock.Elapsed.TotalSeconds;
            if (difference is not null || ContentDigest.Of(listing) != recorded)
            {
                section.Errors.Add($"run {run}: the installed folder does not verify against its own digest ({difference})");
            }

            // The registry check (RepoLockVerifyAgainstRegistry) on the same package copies, through the install's (warm) npm cache.
            clock.Restart();
            var items = TreeDigest.PackageFolders(folder).Select(f => new RegistryCheck.Item(f, Path.GetRelativePath(layout.Root, f).Replace('\\', '/'), Adaptor.ToString())).ToList();
            new RegistryCheck(new RepoLock.Core.Npm.NpmClient(settings.Npm)).Verify(items, Path.Combine(layout.NodeModules, ".package-lock.json"), CancellationToken.None);
            var registry = clock.Elapsed.TotalSeconds;

            var packages = listing.Split('\n').Count(l => l.StartsWith("p\t", StringComparison.Ordinal));
            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count();
            var share = digest / Math.Max(0.001, install - digest);
            shares.Add(share);
            section.Row(run.ToString(CultureInfo.InvariantCulture), F(install), F(digest), share.ToString("P1", CultureInfo.InvariantCulture), F(verify), F(registry),
                packages.ToString(CultureInfo.InvariantCulture), files.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetByteCount(listing).ToString(CultureInfo.InvariantCulture));
            section.Figures.Add(new() { ["run"] = run, ["installSeconds"] = install, ["digestSeconds"] = digest, ["verifySeconds"] = verify, ["registryCheckSeconds"] = registry, ["packages"] = packages, ["files"] = files, ["listingBytes"] = Encoding.UTF8.GetByteCount(listing) });
            ctx.Progress($"digest: run {run}/{runs}: install {install:0.0} s, digest {digest:0.00} s ({share:P1}), verify {verify:0.00} s, registry check {registry:0.00} s, listing {listing.Length} bytes");
        }

        var median = shares.Order().ElementAt(shares.Count / 2);
        section.Target("digest cost", "<= 10% of the install", median.ToString("P1", CultureInfo.InvariantCulture), median <= 0.10);
        return section;
    }

    private static string F(double seconds) => seconds.ToString("0.00", CultureInfo.InvariantCulture);
}
