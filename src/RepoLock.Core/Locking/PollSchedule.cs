namespace RepoLock.Core.Locking;

/// <summary>
/// When a waiter tries a held lock again. Soon at first, because most holds are short (the manifest lock is held for a millisecond; a peer
/// that finds the adaptor installed releases at once), then half as often again each time up to a cap, because a long hold is an npm install
/// that a few more tries a second would not shorten but would multiply by every waiting agent on the file server. Each pause is shortened by
/// a random part of up to a quarter, so waiters that started together spread out instead of asking the server in step.
/// </summary>
internal sealed class PollSchedule
{
    private const double Growth = 1.5;
    private const double Jitter = 0.25;
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private readonly Func<double> _random;
    private TimeSpan _next;

    /// <param name="first">The first pause.</param>
    /// <param name="max">The longest pause (never less than <paramref name="first"/>).</param>
    /// <param name="random">A number in [0, 1) per pause; <see cref="Random.Shared"/> by default.</param>
    public PollSchedule(TimeSpan first, TimeSpan max, Func<double>? random = null)
    {
        _first = first > TimeSpan.Zero ? first : TimeSpan.FromMilliseconds(1);
        _max = max > _first ? max : _first;
        _random = random ?? Random.Shared.NextDouble;
        _next = _first;
    }

    /// <summary>The next pause; the one after it is longer, up to the cap.</summary>
    public TimeSpan Next()
    {
        var pause = _next * (1 - (Jitter * _random()));
        _next = _next * Growth < _max ? _next * Growth : _max;
        return pause;
    }

    /// <summary>Starts again from the first pause (the lock changed hands: the new hold may be a short one).</summary>
    public void Restart() => _next = _first;
}
