using Assistants.Kit.Conversations.Internal.Stores;
using Assistants.Kit.Sqlite.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit;

/// <summary>Registration of the SQLite conversation store, file ingestion store and usage ledger.</summary>
public static class SqliteStoreKitBuilderExtensions
{
    /// <summary>
    /// Stores conversation bindings, assistant records, file ingestion records (<see cref="IFileIngestionStore"/>) and the
    /// usage ledger in a SQLite database file instead of process memory. The schema is created (and migrated) on first
    /// use; several processes on this machine may share the file.
    /// The ledger becomes the kit's <see cref="IUsageLedger"/> unless the application registered its own (see
    /// <see cref="SqliteStoreOptions.UseAsUsageLedger"/>).
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="path">The database file, e.g. <c>data/assistants.db</c>; created when missing.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddSqliteStore(this IAssistantsKitBuilder builder, string path)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return builder.AddSqliteStore(o => o.Path = path);
    }

    /// <summary>
    /// Stores conversation bindings, assistant records, file ingestion records (<see cref="IFileIngestionStore"/>) and the
    /// usage ledger in a SQLite database file instead of process memory. The options are validated when the host starts (or when the store is first resolved). The ledger becomes
    /// the kit's <see cref="IUsageLedger"/> unless <see cref="SqliteStoreOptions.UseAsUsageLedger"/> is
    /// <see langword="false"/> or the application registered its own.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options; <see cref="SqliteStoreOptions.Path"/> is required.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddSqliteStore(this IAssistantsKitBuilder builder, Action<SqliteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.AddOptions<SqliteStoreOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
        services.TryAddSingleton(static sp => new SqliteDatabase(
            sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Sqlite") ?? NullLogger.Instance));
        services.RemoveAll<IConversationStore>();
        services.AddSingleton<IConversationStore>(static sp => new SqliteConversationStore(
            sp.GetRequiredService<SqliteDatabase>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.RemoveAll<IFileIngestionStore>();
        services.AddSingleton<IFileIngestionStore>(static sp => new SqliteFileIngestionStore(sp.GetRequiredService<SqliteDatabase>()));
        services.TryAddSingleton(static sp => new SqliteUsageLedger(sp.GetRequiredService<SqliteDatabase>()));
        UsageLedgerRegistration.Register(
            services,
            static sp => sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value.UseAsUsageLedger,
            static sp => sp.GetRequiredService<SqliteUsageLedger>());
        return builder;
    }
}
