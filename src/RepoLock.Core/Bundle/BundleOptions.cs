namespace RepoLock.Core.Bundle;

/// <summary>How one bundle is written: whether digests are checked, and the archive entries' timestamp.</summary>
internal sealed record BundleOptions(bool Verify, DateTimeOffset Timestamp);
