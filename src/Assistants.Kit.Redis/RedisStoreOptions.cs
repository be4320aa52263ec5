using StackExchange.Redis;

namespace Assistants.Kit;

/// <summary>Options of the Redis conversation store (<c>AddRedisStore</c>).</summary>
public sealed class RedisStoreOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>: <c>assistants-kit:</c>.</summary>
    public const string DefaultKeyPrefix = "assistants-kit:";

    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or
    /// <c>redis.internal:6380,password=…,ssl=true,abortConnect=false</c>. The store connects on first use and keeps one
    /// multiplexer for the life of the service provider. Set this or <see cref="Multiplexer"/>, not both.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets a multiplexer the application already has (e.g. the one it registered for its own caching). The
    /// store uses it and never closes it. Set this or <see cref="ConnectionString"/>, not both.
    /// </summary>
    public IConnectionMultiplexer? Multiplexer { get; set; }

    /// <summary>Gets or sets the database number; -1 (default) is the connection's default database.</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// Gets or sets the prefix of every key the store writes (default <see cref="DefaultKeyPrefix"/>), so several apps
    /// or environments can share one server. Keys: <c>{prefix}binding:{protocol}:{conversation key}</c> (a hash with the
    /// version and the JSON binding), <c>{prefix}bindings:{protocol}</c> (the set of keys <c>ListAsync</c> reads) and
    /// <c>{prefix}assistant:{protocol}:{name}</c>. On Redis Cluster, put a hash tag in the prefix (e.g.
    /// <c>{assistants-kit}:</c>) so a binding and its index live in the same slot.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// Gets or sets how long a binding lives after its last save (a sliding expiry, renewed on every save);
    /// <see langword="null"/> (default) keeps bindings until they are deleted. Assistant records never expire.
    /// </summary>
    public TimeSpan? BindingTimeToLive { get; set; }
}
