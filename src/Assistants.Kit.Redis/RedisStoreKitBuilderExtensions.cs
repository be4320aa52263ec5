using Assistants.Kit.Conversations.Internal.Stores;
using Assistants.Kit.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Assistants.Kit;

/// <summary>Registration of the Redis conversation store, file ingestion store and usage ledger.</summary>
public static class RedisStoreKitBuilderExtensions
{
    /// <summary>
    /// Stores conversation bindings, assistant records, file ingestion records (<see cref="IFileIngestionStore"/>) and the
    /// usage ledger in Redis instead of process memory, shared by every app instance that uses the same server and <see cref="RedisStoreOptions.KeyPrefix"/>. The ledger becomes
    /// the kit's <see cref="IUsageLedger"/> unless the application registered its own (see
    /// <see cref="RedisStoreOptions.UseAsUsageLedger"/>).
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

    /// <summary>
    /// Stores conversation bindings, assistant records, file ingestion records and the usage ledger in Redis through a
    /// multiplexer the application already has.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="multiplexer">The multiplexer; the store never closes it.</param>
    /// <param name="configure">Sets the other options (key prefix, expiry, database, ledger), if needed.</param>
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
    /// Stores conversation bindings, assistant records, file ingestion records (<see cref="IFileIngestionStore"/>) and the
    /// usage ledger in Redis. The options are validated when the
    /// host starts (or when the store is first resolved). The ledger becomes the kit's <see cref="IUsageLedger"/> unless
    /// <see cref="RedisStoreOptions.UseAsUsageLedger"/> is <see langword="false"/> or the application registered its own.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options; <see cref="RedisStoreOptions.ConnectionString"/> or <see cref="RedisStoreOptions.Multiplexer"/> is required.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddRedisStore(this IAssistantsKitBuilder builder, Action<RedisStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.AddOptions<RedisStoreOptions>().Configure(configure);
        AddConnection(services);
        services.RemoveAll<IConversationStore>();
        services.AddSingleton<IConversationStore>(static sp => new RedisConversationStore(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.RemoveAll<IFileIngestionStore>();
        services.AddSingleton<IFileIngestionStore>(static sp => new RedisFileIngestionStore(sp.GetRequiredService<RedisConnection>()));
        services.TryAddSingleton(static sp => new RedisUsageLedger(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Redis") ?? NullLogger.Instance));
        UsageLedgerRegistration.Register(
            services,
            static sp => sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value.UseAsUsageLedger,
            static sp => sp.GetRequiredService<RedisUsageLedger>());
        return builder;
    }

    /// <summary>Registers the one <see cref="RedisConnection"/> of the package, from <see cref="RedisStoreOptions"/> (validated on start).</summary>
    internal static void AddConnection(IServiceCollection services)
    {
        services.AddOptions<RedisStoreOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStoreOptions>, RedisStoreOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisConnection(
            sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Redis") ?? NullLogger.Instance));
    }
}
