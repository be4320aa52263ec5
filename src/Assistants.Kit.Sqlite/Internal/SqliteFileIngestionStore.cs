using System.Globalization;
using System.Runtime.CompilerServices;
using Assistants.Kit.Files.Internal;
using Microsoft.Data.Sqlite;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>
/// <see cref="IFileIngestionStore"/> on a SQLite file: one row of <c>assistants_kit_file_ingestions</c> per
/// (vector store name, content hash). A save is one parameterised upsert (atomic on its own); every statement is
/// parameterised and a connection is opened per operation (pooled).
/// </summary>
internal sealed class SqliteFileIngestionStore : IFileIngestionStore
{
    private const string Columns = "vector_store_name, content_hash, file_id, file_name, bytes, status, vector_store_id, created_at, updated_at";

    private readonly SqliteDatabase _database;

    public SqliteFileIngestionStore(SqliteDatabase database)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
    }

    public async ValueTask<FileIngestionRecord?> GetAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "SELECT " + Columns + " FROM assistants_kit_file_ingestions WHERE vector_store_name = @name AND content_hash = @hash;",
            ("@name", vectorStoreName),
            ("@hash", contentHash));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    public async ValueTask SaveAsync(FileIngestionRecord record, CancellationToken cancellationToken = default)
    {
        FileIngestionRecords.Validate(record);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "INSERT INTO assistants_kit_file_ingestions (" + Columns + ") " +
            "VALUES (@name, @hash, @file_id, @file_name, @bytes, @status, @vector_store_id, @created_at, @updated_at) " +
            "ON CONFLICT (vector_store_name, content_hash) DO UPDATE SET file_id = excluded.file_id, file_name = excluded.file_name, " +
            "bytes = excluded.bytes, status = excluded.status, vector_store_id = excluded.vector_store_id, " +
            "created_at = excluded.created_at, updated_at = excluded.updated_at;",
            ("@name", record.VectorStoreName),
            ("@hash", record.ContentHash),
            ("@file_id", record.FileId),
            ("@file_name", record.FileName),
            ("@bytes", record.Bytes),
            ("@status", FileIngestionRecords.StatusText(record.Status)),
            ("@vector_store_id", record.VectorStoreId),
            ("@created_at", TimeText(record.CreatedAt)),
            ("@updated_at", TimeText(record.UpdatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> RemoveAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "DELETE FROM assistants_kit_file_ingestions WHERE vector_store_name = @name AND content_hash = @hash;",
            ("@name", vectorStoreName),
            ("@hash", contentHash));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async IAsyncEnumerable<FileIngestionRecord> ListAsync(string vectorStoreName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);

        // Ordinal UTF-16 order, as the contract says (SQLite's BINARY collation orders UTF-8 bytes).
        connection.CreateCollation(SqliteDatabase.OrdinalCollation, string.CompareOrdinal);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "SELECT " + Columns + " FROM assistants_kit_file_ingestions WHERE vector_store_name = @name ORDER BY content_hash COLLATE " + SqliteDatabase.OrdinalCollation + ";",
            ("@name", vectorStoreName));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Read(reader);
        }
    }

    private static FileIngestionRecord Read(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), FileIngestionRecords.ParseStatus(reader.GetString(5)))
        {
            VectorStoreId = reader.IsDBNull(6) ? null : reader.GetString(6),
            CreatedAt = ParseTime(reader.GetString(7)),
            UpdatedAt = ParseTime(reader.GetString(8)),
        };

    // The round-trip format keeps the ticks and the offset, so a value reads back equal to what was written.
    private static string TimeText(DateTimeOffset value) => value.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
