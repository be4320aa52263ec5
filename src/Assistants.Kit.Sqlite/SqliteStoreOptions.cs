namespace Assistants.Kit;

/// <summary>Options of the SQLite conversation store and usage ledger (<c>AddSqliteStore</c>).</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The default <see cref="BusyTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the path of the database file (a relative path is resolved against the current directory when the
    /// store is created). The file and its folder are created on first use when missing. Several processes on the same
    /// machine may share the file; a network file system may not support the WAL mode the store sets. Required.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets how long an operation waits for another connection or process that holds the write lock before it
    /// fails with a "database is locked" <see cref="Microsoft.Data.Sqlite.SqliteException"/>. Default
    /// <see cref="DefaultBusyTimeout"/>; between 0 and 1 hour.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = DefaultBusyTimeout;

    /// <summary>
    /// Gets or sets whether the usage ledger in the same file becomes the kit's <see cref="IUsageLedger"/> (default
    /// <see langword="true"/>): entries are then appended to the <c>assistants_kit_usage</c> table and budgets and totals
    /// read it, so they survive restarts and are shared by every process using the file. It replaces the in-memory
    /// default (and the ledger of a store package registered before), never a ledger the application registered itself
    /// with <c>UseUsageLedger</c> (or otherwise); <c>UseUsageLedger</c> called later replaces it. Set
    /// <see langword="false"/> to store only conversations here and keep the ledger the kit had.
    /// </summary>
    public bool UseAsUsageLedger { get; set; } = true;
}
