using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RepoLock.Tests.Infrastructure;

/// <summary>
/// One folder seen through two sshfs mounts over loopback: a shared file system with the traits of NFS that matter to locks. mkdir is atomic
/// on the server (the second mount gets EEXIST), mtimes have whole-second precision (SFTP v3), and each mount caches attributes, so it
/// shows a directory's old mtime for a while after the other mount changed it (here up to <see cref="CacheSeconds"/> s plus the kernel's
/// 1 s, like NFS with acdirmax=2). sshd runs on a free port with a generated host key and a key-only root login; everything is
/// unmounted and stopped on dispose. <see cref="SkipReason"/> says why the pair is not available (not root, no /dev/fuse, no sshfs or sshd).
/// </summary>
public sealed class SshfsPair : IDisposable
{
    /// <summary>sshfs's own attribute and directory cache, in seconds (its default is 20).</summary>
    public const int CacheSeconds = 2;

    private const string Sshd = "/usr/sbin/sshd";

    /// <summary>OpenSSH's SFTP server as a program (Debian's path); <see cref="SshfsPair(string?, bool)"/> runs it per mount to log every request.</summary>
    private const string SftpServer = "/usr/lib/openssh/sftp-server";
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir = new("sshfs");
    private readonly List<string> _mounted = [];
    private ChildProcess? _sshd;

    public SshfsPair()
        : this(null)
    {
    }

    /// <summary>A pair whose second mount gets extra sshfs/FUSE options (for example the kernel's lookup caching: <c>entry_timeout=1,negative_timeout=90</c>).</summary>
    internal SshfsPair(string? mount2Options)
        : this(mount2Options, logRequests: false)
    {
    }

    /// <summary>
    /// A pair whose file server logs every request it receives, one log per mount (<see cref="RequestLog"/>): each mount's sshfs runs
    /// OpenSSH's <c>sftp-server -l DEBUG3</c> as its remote command instead of sshd's internal one. What a fleet of clients asks of the
    /// server is then counted where a file server would count it.
    /// <paramref name="bothOptions"/> go to both mounts (for example <c>cache=no</c>: sshfs's own cache off).
    /// </summary>
    internal SshfsPair(string? mount2Options, bool logRequests, string? bothOptions = null)
    {
        SkipReason = Missing() ?? (logRequests && !File.Exists(SftpServer) ? $"counting requests needs {SftpServer} (openssh-sftp-server)." : null);
        LogsRequests = logRequests;
        if (SkipReason is not null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Shared);
            Directory.CreateDirectory(Mount1);
            Directory.CreateDirectory(Mount2);
            var port = StartSshd();
            Mount(Mount1, port, bothOptions);
            Mount(Mount2, port, string.Join(',', new[] { bothOptions, mount2Options }.OfType<string>()) is { Length: > 0 } o ? o : null);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Null when the pair is mounted; otherwise the reason the tests skip.</summary>
    public string? SkipReason { get; }

    /// <summary>The folder on the "server" (never used by the tests directly).</summary>
    public string Shared => _dir.Combine("shared");

    public string Mount1 => _dir.Combine("m1");

    public string Mount2 => _dir.Combine("m2");

    /// <summary>Whether the server logs every request (<see cref="RequestLog"/>).</summary>
    public bool LogsRequests { get; }

    /// <summary>The server's request log of one mount (sftp-server's DEBUG3 lines: <c>request N: mkdir</c>, ...); only with request logging.</summary>
    public string RequestLog(string mountPoint) => mountPoint + ".requests.log";

    private static string? Missing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "sshfs tests need Linux.";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "sshfs tests need root (they start sshd and mount FUSE file systems).";
        }

        if (!File.Exists("/dev/fuse"))
        {
            return "sshfs tests need /dev/fuse (in a container: --device /dev/fuse --cap-add SYS_ADMIN).";
        }

        foreach (var tool in new[] { "sshfs", "ssh-keygen", "fusermount3" })
        {
            if (Which(tool) is null)
            {
                return $"sshfs tests need {tool} on PATH (.ci/install-sshfs installs openssh-server and sshfs).";
            }
        }

        return File.Exists(Sshd) ? null : $"sshfs tests need {Sshd} (.ci/install-sshfs installs openssh-server).";
    }

    private int StartSshd()
    {
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", _dir.Combine("host_key"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", _dir.Combine("user_key"));
        File.Copy(_dir.Combine("user_key.pub"), _dir.Combine("authorized_keys"));
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation folder

        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            File.WriteAllText(_dir.Combine("sshd_config"), $"""
                ListenAddress 127.0.0.1
                Port {port}
                HostKey {_dir.Combine("host_key")}
                PidFile none
                AuthorizedKeysFile {_dir.Combine("authorized_keys")}
                PermitRootLogin prohibit-password
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                Subsystem sftp internal-sftp
                LogLevel ERROR
                """);
            _sshd = ChildProcess.Start(Sshd, ["-D", "-e", "-f", _dir.Combine("sshd_config")]);
            if (WaitListening(port))
            {
                return port;
            }

            var output = _sshd.Output;
            _sshd.Dispose();
            _sshd = null;
            if (attempt == 3)
            {
                throw new InvalidOperationException($"sshd did not start on 127.0.0.1:{port}:\n{output}");
            }
        }
    }

    private bool WaitListening(int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Step && !_sshd!.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(20); // sshd not listening yet
            }
        }

        return false;
    }

    private void Mount(string mountPoint, int port, string? extraOptions = null)
    {
        // sshfs daemonizes, and its ssh child keeps the stderr it started with: give them a log file, not a pipe we would wait on.
        var log = mountPoint + ".log";
        string[] server = [];
        if (LogsRequests && OperatingSystem.IsLinux())
        {
            // A path (with a slash) is run as a command on the server, not as a subsystem; its stderr is the request log.
            var wrapper = mountPoint + ".sftp-server.sh";
            File.WriteAllText(wrapper, $"#!/bin/sh\nexec {SftpServer} -e -l DEBUG3 2>>'{RequestLog(mountPoint)}'\n");
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            server = ["-o", $"sftp_server={wrapper}"];
        }

        var (code, _) = Exec("sh", ["-c", "exec sshfs \"$@\" >\"$LOG\" 2>&1", "sshfs", .. server,
            "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-o", $"IdentityFile={_dir.Combine("user_key")},StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes,LogLevel=ERROR",
            "-o", $"dcache_timeout={CacheSeconds}" + (extraOptions is null ? "" : "," + extraOptions),
            $"root@127.0.0.1:{Shared}", mountPoint], new Dictionary<string, string?> { ["LOG"] = log });
        if (code != 0)
        {
            throw new InvalidOperationException($"sshfs could not mount {mountPoint} ({code}):\n{File.ReadAllText(log)}");
        }

        _mounted.Add(mountPoint);
        if (!File.ReadAllText("/proc/mounts").Contains($" {mountPoint} fuse.sshfs ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"sshfs reported success but {mountPoint} is not mounted.");
        }
    }

    public void Dispose()
    {
        foreach (var mountPoint in _mounted)
        {
            // A lazy unmount never blocks on a process still using the mount (a test that failed half-way).
            TryRun("fusermount3", "-u", "-z", mountPoint);
        }

        _mounted.Clear();
        _sshd?.Dispose();
        _dir.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Run(string tool, params string[] args)
    {
        var (code, output) = Exec(tool, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({code}):\n{output}");
        }
    }

    private static void TryRun(string tool, params string[] args) => Exec(tool, args);

    private static (int Code, string Output) Exec(string tool, string[] args, IDictionary<string, string?>? env = null)
    {
        using var child = ChildProcess.Start(tool, args, env: env);
        var code = child.WaitForExitAsync(Step).GetAwaiter().GetResult();
        return (code, child.Output);
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}
