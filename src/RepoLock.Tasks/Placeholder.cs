namespace RepoLock;
internal static class Placeholder { }
