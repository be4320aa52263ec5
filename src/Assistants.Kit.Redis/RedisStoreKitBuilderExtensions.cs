using Assistants.Kit.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Assistants.Kit;

/// <summary>Registration of the Redis conversation store.</summary>
public static class RedisStoreKitBuilderExtensions
{
    /// <summary>
    /// Stores conversation bindings and assistant records in Redis instead of process memory, shared by every app
    /// instance that uses the same server and <see cref="RedisStoreOptions.KeyPrefix"/>.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="connectionString">The StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddRedisStore(this IAssistantsKitBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddRedisStore(o => o.ConnectionString = connectionString);
    }

    /// <summary>Stores conversation bindings and assistant records in Redis through a multiplexer the application already has.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="multiplexer">The multiplexer; the store never closes it.</param>
    /// <param name="configure">Sets the other options (key prefix, expiry, database), if needed.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddRedisStore(this IAssistantsKitBuilder builder, IConnectionMultiplexer multiplexer, Action<RedisStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(multiplexer);
        return builder.AddRedisStore(o =>
        {
            o.Multiplexer = multiplexer;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Stores conversation bindings and assistant records in Redis. The options are validated when the host starts (or
    /// when the store is first resolved).
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options; <see cref="RedisStoreOptions.ConnectionString"/> or <see cref="RedisStoreOptions.Multiplexer"/> is required.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddRedisStore(this IAssistantsKitBuilder builder, Action<RedisStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.AddOptions<RedisStoreOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStoreOptions>, RedisStoreOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisConnection(
            sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Redis") ?? NullLogger.Instance));
        services.RemoveAll<IConversationStore>();
        services.AddSingleton<IConversationStore>(static sp => new RedisConversationStore(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return builder;
    }
}
