using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// <see cref="IConversationLeaseProvider"/> on Redis: one lease per conversation key across every app instance sharing
/// the server and key prefix. Acquiring sets <c>{prefix}lease:{key}</c> to a random owner ID with the lease's expiry,
/// only if it is absent, and in the same script increments <c>{prefix}fence:{key}</c>, whose new value is the lease's
/// fencing token (so tokens strictly increase, are never reused and outlive every lease). A held lease is renewed by a
/// timer; every renewal and the release check the owner first, so a holder whose lease expired can neither extend nor
/// delete its successor's. Instances waiting for a held lease poll with a random delay until they get it or are cancelled.
/// </summary>
/// <remarks>
/// A lease is lost when a renewal finds it expired or owned by someone else, or when renewals failed (Redis unreachable)
/// for a whole lease duration since the last confirmed one; <see cref="IConversationLease.IsLost"/> also turns true by
/// itself once a lease duration passed since the last confirmed renewal (a paused process learns it on waking). The
/// confirmation time is taken before the command is sent, so the local view errs on the side of "lost".
/// </remarks>
internal sealed partial class RedisConversationLeaseProvider : IConversationLeaseProvider, IAsyncDisposable
{
    // KEYS[1] lease, KEYS[2] fence counter; ARGV[1] owner ID, ARGV[2] lease duration in milliseconds.
    // Returns the new fencing token (1, 2, 3…) when acquired, 0 when another owner holds the lease.
    private const string AcquireScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
            return redis.call('INCR', KEYS[2])
        end
        return 0
        """;

    // KEYS[1] lease; ARGV[1] owner ID, ARGV[2] lease duration in milliseconds. Returns 1 when renewed, 0 when the lease
    // is gone or owned by someone else (never extends another owner's lease).
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    // KEYS[1] lease; ARGV[1] owner ID. Returns 1 when deleted, 0 when the lease is gone or owned by someone else (a lost
    // lease's release never deletes its successor's).
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly RedisConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _keyPrefix;
    private readonly TimeSpan _duration;
    private readonly RedisValue _durationMilliseconds;
    private readonly TimeSpan _renewInterval;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _retryMaxDelay;
    private readonly string _ownerPrefix;
    private readonly ConcurrentDictionary<Lease, byte> _held = new();
    private int _disposed;

    public RedisConversationLeaseProvider(RedisConnection connection, RedisLeaseOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var validation = new RedisLeaseOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _connection = connection;
        _timeProvider = timeProvider;
        _logger = logger;
        _keyPrefix = options.KeyPrefix ?? connection.KeyPrefix;
        var milliseconds = (long)Math.Ceiling(options.LeaseDuration.TotalMilliseconds);
        _duration = TimeSpan.FromMilliseconds(milliseconds);
        _durationMilliseconds = milliseconds.ToString(CultureInfo.InvariantCulture);
        _renewInterval = options.EffectiveRenewInterval;
        _retryDelay = options.AcquireRetryDelay;
        _retryMaxDelay = options.AcquireRetryMaxDelay;
        _ownerPrefix = $"{Environment.MachineName}/{Environment.ProcessId}/";
    }

    /// <summary>Gets the prefix of the lease and fence keys.</summary>
    internal string KeyPrefix => _keyPrefix;

    /// <summary>Gets the lease duration, in whole milliseconds.</summary>
    internal TimeSpan LeaseDuration => _duration;

    /// <summary>Gets the renewal interval.</summary>
    internal TimeSpan RenewInterval => _renewInterval;

    /// <summary>
    /// Gets or sets whether leases acquired from now on are renewed (tests turn it off to play an instance that stopped
    /// renewing: a paused process, a partition).
    /// </summary>
    internal bool RenewalEnabled { get; set; } = true;

    /// <summary>Gets or sets the random source of the retry delays.</summary>
    internal Func<double> Random { get; set; } = System.Random.Shared.NextDouble;

    public async ValueTask<IConversationLease> AcquireAsync(string conversationKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var leaseKey = LeaseKey(conversationKey);
        RedisKey[] keys = [leaseKey, FenceKey(conversationKey)];
        var owner = _ownerPrefix + Guid.NewGuid().ToString("N");
        RedisValue[] arguments = [owner, _durationMilliseconds];
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);

            // Taken before sending: the lease's expiry in Redis starts later than this, never earlier.
            var sentAt = _timeProvider.GetTimestamp();
            var token = (long)await database.ScriptEvaluateAsync(AcquireScript, keys, arguments).ConfigureAwait(false);
            if (token > 0)
            {
                var lease = new Lease(this, conversationKey, leaseKey, owner, token, sentAt);
                _held[lease] = 0;
                Log.Acquired(_logger, conversationKey, token, attempt);
                if (Volatile.Read(ref _disposed) != 0)
                {
                    await lease.DisposeAsync().ConfigureAwait(false);
                    throw new ObjectDisposedException(GetType().FullName);
                }

                lease.StartRenewing();
                return lease;
            }

            if (attempt == 1)
            {
                Log.Waiting(_logger, conversationKey);
            }

            await Task.Delay(NextRetryDelay(), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Releases the leases still held (best effort); they would otherwise block their keys until they expire.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var lease in _held.Keys)
        {
            await lease.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal RedisKey LeaseKey(string conversationKey) => $"{_keyPrefix}lease:{conversationKey}";

    internal RedisKey FenceKey(string conversationKey) => $"{_keyPrefix}fence:{conversationKey}";

    private TimeSpan NextRetryDelay() => _retryDelay + ((_retryMaxDelay - _retryDelay) * Math.Clamp(Random(), 0, 1));

    /// <summary>One held lease: renewed by its timer until disposed or lost.</summary>
    internal sealed class Lease : IConversationLease
    {
        private readonly RedisConversationLeaseProvider _provider;
        private readonly RedisKey[] _keys;
        private readonly RedisValue _owner;
        private ITimer? _timer;
        private long _confirmedAt;
        private int _lost;
        private int _renewing;
        private int _renewals;
        private int _disposed;

        public Lease(RedisConversationLeaseProvider provider, string conversationKey, RedisKey leaseKey, string owner, long fencingToken, long acquiredAt)
        {
            _provider = provider;
            _keys = [leaseKey];
            _owner = owner;
            _confirmedAt = acquiredAt;
            ConversationKey = conversationKey;
            FencingToken = fencingToken;
        }

        public string ConversationKey { get; }

        public long FencingToken { get; }

        public bool IsLost =>
            Volatile.Read(ref _lost) != 0
            || _provider._timeProvider.GetElapsedTime(Volatile.Read(ref _confirmedAt)) >= _provider._duration;

        /// <summary>Gets the owner ID stored in the lease key.</summary>
        internal string Owner => _owner!;

        /// <summary>Gets how many renewals Redis confirmed.</summary>
        internal int Renewals => Volatile.Read(ref _renewals);

        /// <summary>Gets a value indicating whether a renewal is in flight (a timer tick meanwhile is skipped).</summary>
        internal bool Renewing => Volatile.Read(ref _renewing) != 0;

        /// <summary>Stops renewing, as a paused or partitioned holder would (tests).</summary>
        internal void StopRenewing() => Interlocked.Exchange(ref _timer, null)?.Dispose();

        internal void StartRenewing()
        {
            if (_provider.RenewalEnabled)
            {
                var interval = _provider._renewInterval;
                _timer = _provider._timeProvider.CreateTimer(static state => ((Lease)state!).OnTimer(), this, interval, interval);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            StopRenewing();
            _provider._held.TryRemove(this, out _);
            try
            {
                var database = await _provider._connection.GetDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
                var released = (long)await database.ScriptEvaluateAsync(ReleaseScript, _keys, [_owner]).ConfigureAwait(false) == 1;
                Log.Released(_provider._logger, ConversationKey, FencingToken, released);
            }
#pragma warning disable CA1031 // Release is best effort: an unreleased lease expires by itself, and disposal must not throw.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ReleaseFailed(_provider._logger, ConversationKey, FencingToken, _provider._duration, ex);
            }
        }

        private void OnTimer()
        {
            if (Volatile.Read(ref _disposed) == 0 && Interlocked.CompareExchange(ref _renewing, 1, 0) == 0)
            {
                _ = RenewAsync();
            }
        }

        private async Task RenewAsync()
        {
            try
            {
                var database = await _provider._connection.GetDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
                var sentAt = _provider._timeProvider.GetTimestamp();
                var renewed = (long)await database.ScriptEvaluateAsync(RenewScript, _keys, [_owner, _provider._durationMilliseconds]).ConfigureAwait(false) == 1;
                if (renewed)
                {
                    Volatile.Write(ref _confirmedAt, sentAt);
                    Interlocked.Increment(ref _renewals);
                }
                else
                {
                    MarkLost(null);
                }
            }
#pragma warning disable CA1031 // A timer callback: the failure is logged, and the lease marked lost once it must have expired.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (Volatile.Read(ref _disposed) == 0)
                {
                    if (_provider._timeProvider.GetElapsedTime(Volatile.Read(ref _confirmedAt)) >= _provider._duration)
                    {
                        MarkLost(ex);
                    }
                    else
                    {
                        Log.RenewalFailed(_provider._logger, ConversationKey, FencingToken, ex);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _renewing, 0);
            }
        }

        private void MarkLost(Exception? error)
        {
            if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _lost, 1) != 0)
            {
                return;
            }

            StopRenewing();
            Log.Lost(_provider._logger, ConversationKey, FencingToken, error);
        }
    }

    /// <summary>The Redis store's log messages (event IDs 6100–6199).</summary>
    private static partial class Log
    {
        [LoggerMessage(6120, LogLevel.Debug, "Acquired the lease of conversation {ConversationKey} with fencing token {FencingToken} (attempt {Attempt}).")]
        public static partial void Acquired(ILogger logger, string conversationKey, long fencingToken, int attempt);

        [LoggerMessage(6121, LogLevel.Debug, "The lease of conversation {ConversationKey} is held by another instance; waiting for it.")]
        public static partial void Waiting(ILogger logger, string conversationKey);

        [LoggerMessage(6122, LogLevel.Warning, "Lost the lease of conversation {ConversationKey} (fencing token {FencingToken}): it expired or another instance took it over; store writes with this token will be rejected once a newer one is stored.")]
        public static partial void Lost(ILogger logger, string conversationKey, long fencingToken, Exception? exception);

        [LoggerMessage(6123, LogLevel.Warning, "Renewing the lease of conversation {ConversationKey} (fencing token {FencingToken}) failed; retrying at the next interval.")]
        public static partial void RenewalFailed(ILogger logger, string conversationKey, long fencingToken, Exception exception);

        [LoggerMessage(6124, LogLevel.Debug, "Released the lease of conversation {ConversationKey} (fencing token {FencingToken}); it was still held: {WasHeld}.")]
        public static partial void Released(ILogger logger, string conversationKey, long fencingToken, bool wasHeld);

        [LoggerMessage(6125, LogLevel.Warning, "Releasing the lease of conversation {ConversationKey} (fencing token {FencingToken}) failed; it expires within {LeaseDuration}.")]
        public static partial void ReleaseFailed(ILogger logger, string conversationKey, long fencingToken, TimeSpan leaseDuration, Exception exception);
    }
}
