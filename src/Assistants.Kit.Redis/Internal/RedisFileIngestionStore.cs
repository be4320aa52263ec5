using System.Runtime.CompilerServices;
using System.Text.Json;
using Assistants.Kit.Files.Internal;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// <see cref="IFileIngestionStore"/> on Redis: the records of a vector store name are one hash,
/// <c>{prefix}ingestion:{vector store name}</c>, whose fields are the content hashes and whose values are the JSON
/// records. Every operation is one command (<c>HGET</c>, <c>HSET</c>, <c>HDEL</c>, <c>HGETALL</c>), so each is atomic;
/// the hash never expires.
/// </summary>
/// <remarks>
/// StackExchange.Redis cannot cancel a command once sent: the cancellation token is checked before each operation.
/// </remarks>
internal sealed class RedisFileIngestionStore : IFileIngestionStore
{
    private readonly RedisConnection _connection;

    public RedisFileIngestionStore(RedisConnection connection)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
    }

    public async ValueTask<FileIngestionRecord?> GetAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var value = await database.HashGetAsync(IngestionKey(vectorStoreName), contentHash).ConfigureAwait(false);
        return value.IsNull ? null : Read(vectorStoreName, contentHash, value);
    }

    public async ValueTask SaveAsync(FileIngestionRecord record, CancellationToken cancellationToken = default)
    {
        FileIngestionRecords.Validate(record);
        cancellationToken.ThrowIfCancellationRequested();
        var json = JsonSerializer.Serialize(
            new StoredFileIngestion
            {
                FileId = record.FileId,
                FileName = record.FileName,
                Bytes = record.Bytes,
                Status = FileIngestionRecords.StatusText(record.Status),
                VectorStoreId = record.VectorStoreId,
                CreatedAt = record.CreatedAt,
                UpdatedAt = record.UpdatedAt,
            },
            RedisJsonContext.Default.StoredFileIngestion);
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.HashSetAsync(IngestionKey(record.VectorStoreName), record.ContentHash, json).ConfigureAwait(false);
    }

    public async ValueTask<bool> RemoveAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        return await database.HashDeleteAsync(IngestionKey(vectorStoreName), contentHash).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<FileIngestionRecord> ListAsync(string vectorStoreName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var entries = await database.HashGetAllAsync(IngestionKey(vectorStoreName)).ConfigureAwait(false);
        var records = entries.Select(e => Read(vectorStoreName, (string)e.Name!, e.Value)).OrderBy(r => r.ContentHash, StringComparer.Ordinal).ToList();
        foreach (var record in records)
        {
            yield return record;
        }
    }

    internal RedisKey IngestionKey(string vectorStoreName) => $"{_connection.KeyPrefix}ingestion:{vectorStoreName}";

    private FileIngestionRecord Read(string vectorStoreName, string contentHash, RedisValue value)
    {
        var stored = JsonSerializer.Deserialize((string)value!, RedisJsonContext.Default.StoredFileIngestion)
            ?? throw new InvalidOperationException($"The field '{contentHash}' of the Redis key '{IngestionKey(vectorStoreName)}' does not hold a file ingestion record.");
        return new FileIngestionRecord(vectorStoreName, contentHash, stored.FileId, stored.FileName, stored.Bytes, FileIngestionRecords.ParseStatus(stored.Status))
        {
            VectorStoreId = stored.VectorStoreId,
            CreatedAt = stored.CreatedAt,
            UpdatedAt = stored.UpdatedAt,
        };
    }
}
