using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// The one multiplexer the Redis package uses (a singleton): either the application's own (never closed here), or one
/// connected from the configuration string on first use and closed with the service provider. A failed connect is not
/// cached; the next operation tries again.
/// </summary>
internal sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConfigurationOptions? _configuration;
    private readonly bool _owned;
    private readonly int _database;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private volatile IConnectionMultiplexer? _multiplexer;

    public RedisConnection(RedisStoreOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var validation = new RedisStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _logger = logger;
        _database = options.Database;
        KeyPrefix = options.KeyPrefix;
        BindingTimeToLive = options.BindingTimeToLive;
        UsageRetention = options.UsageRetention;
        if (options.Multiplexer is { } multiplexer)
        {
            _multiplexer = multiplexer;
        }
        else
        {
            _configuration = ConfigurationOptions.Parse(options.ConnectionString!);
            _owned = true;
        }
    }

    /// <summary>Gets the prefix of every key.</summary>
    public string KeyPrefix { get; }

    /// <summary>Gets the sliding expiry of bindings, if any.</summary>
    public TimeSpan? BindingTimeToLive { get; }

    /// <summary>Gets how long ledger entries are kept, if not forever.</summary>
    public TimeSpan? UsageRetention { get; }

    /// <summary>Gets the database, connecting first if needed.</summary>
    public async ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken)
    {
        var multiplexer = _multiplexer ?? await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.GetDatabase(_database);
    }

    public async ValueTask DisposeAsync()
    {
        if (_owned && _multiplexer is { } multiplexer)
        {
            _multiplexer = null;
            await multiplexer.CloseAsync().ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }

        _connectGate.Dispose();
    }

    public void Dispose()
    {
        if (_owned && _multiplexer is { } multiplexer)
        {
            _multiplexer = null;
            multiplexer.Close();
            multiplexer.Dispose();
        }

        _connectGate.Dispose();
    }

    private async Task<IConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_multiplexer is { } existing)
            {
                return existing;
            }

            var endpoints = string.Join(", ", _configuration!.EndPoints);
            try
            {
                var connected = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
                Log.Connected(_logger, endpoints);
                _multiplexer = connected;
                return connected;
            }
            catch (RedisConnectionException ex)
            {
                Log.ConnectFailed(_logger, endpoints, ex);
                throw;
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>The Redis store's log messages (event IDs 6100–6199).</summary>
    private static partial class Log
    {
        [LoggerMessage(6100, LogLevel.Information, "Redis store connected to {Endpoints}.")]
        public static partial void Connected(ILogger logger, string endpoints);

        [LoggerMessage(6101, LogLevel.Warning, "Redis store could not connect to {Endpoints}; the next operation tries again.")]
        public static partial void ConnectFailed(ILogger logger, string endpoints, Exception exception);
    }
}
