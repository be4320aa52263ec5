using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>
/// One SQLite database file: hands out open connections (one per operation, pooled by Microsoft.Data.Sqlite, each with
/// the busy timeout set) and brings the schema up to date once, on first use. Shared by everything the package stores in
/// the file (conversation bindings, assistant records and the usage ledger).
/// </summary>
internal sealed partial class SqliteDatabase : IDisposable
{
    /// <summary>The collation <c>ListAsync</c> orders keys by: ordinal UTF-16, the order of <see cref="StringComparer.Ordinal"/>.</summary>
    public const string OrdinalCollation = "ASSISTANTS_KIT_ORDINAL";

    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _initializeGate = new(1, 1);
    private volatile bool _initialized;

    public SqliteDatabase(SqliteStoreOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var validation = new SqliteStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _logger = logger;
        _timeProvider = timeProvider;
        FilePath = System.IO.Path.GetFullPath(options.Path!);
        _busyTimeoutMs = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,

            // Microsoft.Data.Sqlite retries a busy statement until the command timeout; keep it at least the busy timeout.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the connection string every connection is opened with.</summary>
    public string ConnectionString { get; }

    /// <summary>Opens a connection to an up-to-date database; the caller disposes it.</summary>
    public async ValueTask<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        return await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a command with parameters given as name/value pairs (<see langword="null"/> becomes SQL NULL).</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Closes the idle pooled connections to the file (so it can be moved or deleted) and releases the gate.</summary>
    public void Dispose()
    {
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        _initializeGate.Dispose();
    }

    private async ValueTask<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // A PRAGMA takes no parameters; the value is an integer computed from validated options, never user text.
            using var pragma = Command(connection, null, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {_busyTimeoutMs};"));
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initializeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }

            if (System.IO.Path.GetDirectoryName(FilePath) is { Length: > 0 } directory)
            {
                Directory.CreateDirectory(directory);
            }

            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // WAL is a property of the file: set once, it stays. Readers then never block the writer, and the writer
                // never blocks readers, also across processes.
                using (var wal = Command(connection, null, "PRAGMA journal_mode = WAL;"))
                {
                    var mode = Convert.ToString(await wal.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                    if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    {
                        Log.WalUnavailable(_logger, FilePath, mode);
                    }
                }

                await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            _initialized = true;
        }
        finally
        {
            _initializeGate.Release();
        }
    }

    private async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE takes the write lock first, so two processes starting together migrate one after the other;
        // the second sees the first one's version and has nothing left to do.
        var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            using (var create = Command(connection, transaction, SqliteSchema.CreateSchemaTable))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            long current;
            using (var read = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM assistants_kit_schema;"))
            {
                current = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            if (current > SqliteSchema.LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The database '{FilePath}' has schema version {current}, newer than this version of Assistants.Kit.Sqlite supports ({SqliteSchema.LatestVersion}); update the package.");
            }

            foreach (var migration in SqliteSchema.Migrations.Where(m => m.Version > current))
            {
                using (var step = Command(connection, transaction, migration.Sql))
                {
                    await step.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                using (var record = Command(
                    connection,
                    transaction,
                    "INSERT INTO assistants_kit_schema (version, description, applied_at) VALUES (@version, @description, @applied_at);",
                    ("@version", migration.Version),
                    ("@description", migration.Description),
                    ("@applied_at", _timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture))))
                {
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Log.Migrated(_logger, FilePath, migration.Version, migration.Description);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The SQLite store's log messages (event IDs 6000–6099).</summary>
    private static partial class Log
    {
        [LoggerMessage(6000, LogLevel.Information, "SQLite store {Path}: applied schema version {Version} ({Description}).")]
        public static partial void Migrated(ILogger logger, string path, int version, string description);

        [LoggerMessage(6001, LogLevel.Warning, "SQLite store {Path}: the journal mode is '{Mode}', not WAL (is the file on a network file system?); concurrent readers and writers will block each other.")]
        public static partial void WalUnavailable(ILogger logger, string path, string? mode);
    }
}
