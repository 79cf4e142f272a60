namespace RepoLock.Core.Bundle;

/// <summary>
/// How one bundle is written: whether digests are checked, the archive entries' timestamp, and the registry check for packages no digest
/// covers (null: none).
/// </summary>
internal sealed record BundleOptions(bool Verify, DateTimeOffset Timestamp, RegistryCheck? Registry = null);
