using Assistants.Kit;
using Assistants.Kit.Migration.Internal;
using Assistants.Kit.Protocols.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <see cref="ThreadMigrator"/>.</summary>
public static class MigrationServiceCollectionExtensions
{
    /// <summary>
    /// Registers the kit (if not yet registered; <c>AddAssistantsKit</c> is safe to call twice) and a singleton
    /// <see cref="ThreadMigrator"/> that reads threads from <see cref="ThreadMigratorOptions.Source"/> and writes
    /// conversations to <see cref="ThreadMigratorOptions.Target"/>, recording mappings and switching bindings in the
    /// kit's <see cref="IConversationStore"/> (register a durable one, e.g. <c>AddSqliteStore</c>). The options are
    /// validated when the migrator is first resolved or the host starts.
    /// </summary>
    /// <remarks>
    /// The migrator's requests run on the kit's HTTP stack, which reads <see cref="AssistantsKitOptions"/>
    /// (<see cref="AssistantsKitOptions.Http"/>): the kit's own options must be valid too — in a process that only
    /// migrates, point the kit at the target.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the source and target endpoints and credentials.</param>
    /// <returns>The kit builder, to add a store.</returns>
    public static IAssistantsKitBuilder AddAssistantsKitMigration(this IServiceCollection services, Action<ThreadMigratorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddAssistantsKit();
        services.AddOptions<ThreadMigratorOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ThreadMigratorOptions>, ThreadMigratorOptionsValidator>());
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<ThreadMigratorOptions>>().Value;
            var loggerFactory = sp.GetService<ILoggerFactory>();
            var clients = new MigrationClients(
                sp.GetRequiredService<IHttpClientFactory>(),
                sp.GetRequiredService<IOptions<AssistantsKitOptions>>(),
                options,
                loggerFactory);
            return new ThreadMigrator(
                clients,
                sp.GetRequiredService<WriteReconciler>(),
                sp.GetRequiredService<IConversationStore>(),
                options,
                loggerFactory?.CreateLogger("Assistants.Kit.Migration") ?? NullLogger.Instance);
        });
        return builder;
    }
}
