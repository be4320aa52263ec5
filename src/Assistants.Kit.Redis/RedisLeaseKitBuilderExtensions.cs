using Assistants.Kit.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit;

/// <summary>Registration of Redis conversation leases.</summary>
public static class RedisLeaseKitBuilderExtensions
{
    /// <summary>
    /// Serialises runs on one conversation key across every app instance sharing the Redis server: before a message runs,
    /// the kit acquires the key's lease in Redis (waiting while another instance holds it), renews it while the run lives
    /// and releases it afterwards; every store write it makes meanwhile carries the lease's fencing token, and the store
    /// rejects a write whose token is older than the stored one with <see cref="ConversationFencedException"/>. Leases use
    /// the connection of <c>AddRedisStore</c> (its server, multiplexer, database and, unless
    /// <see cref="RedisLeaseOptions.KeyPrefix"/> is set, key prefix), which must therefore be configured too. Replaces any
    /// <see cref="IConversationLeaseProvider"/> registered before.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options (lease duration, renewal, retry delays, key prefix), if needed.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddRedisLeases(this IAssistantsKitBuilder builder, Action<RedisLeaseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<RedisLeaseOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLeaseOptions>, RedisLeaseOptionsValidator>());
        RedisStoreKitBuilderExtensions.AddConnection(services);
        services.RemoveAll<IConversationLeaseProvider>();
        services.AddSingleton<IConversationLeaseProvider>(static sp => new RedisConversationLeaseProvider(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetRequiredService<IOptions<RedisLeaseOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Redis.Leases") ?? NullLogger.Instance));
        return builder;
    }
}
