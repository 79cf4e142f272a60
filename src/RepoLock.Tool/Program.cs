using RepoLock.Tool;

return await RepoLockCli.RunAsync(args).ConfigureAwait(false);
