using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Assistants.Kit.Files.Internal;

namespace Assistants.Kit;

/// <summary>
/// The default <see cref="IFileIngestionStore"/>: records in process memory, lost on restart (the next process then
/// relies on the vector store's listing alone). Thread-safe. <c>AddSqliteStore</c> and <c>AddRedisStore</c> replace it.
/// </summary>
public sealed class InMemoryFileIngestionStore : IFileIngestionStore
{
    private readonly ConcurrentDictionary<(string Name, string Hash), FileIngestionRecord> _records = new();

    /// <summary>Gets how many records are stored.</summary>
    public int Count => _records.Count;

    /// <inheritdoc />
    public ValueTask<FileIngestionRecord?> GetAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_records.TryGetValue((vectorStoreName, contentHash), out var record) ? record : null);
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(FileIngestionRecord record, CancellationToken cancellationToken = default)
    {
        FileIngestionRecords.Validate(record);
        cancellationToken.ThrowIfCancellationRequested();
        _records[(record.VectorStoreName, record.ContentHash)] = record;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_records.TryRemove((vectorStoreName, contentHash), out _));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<FileIngestionRecord> ListAsync(string vectorStoreName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(vectorStoreName);
        cancellationToken.ThrowIfCancellationRequested();
        var records = _records.Where(r => r.Key.Name == vectorStoreName).Select(r => r.Value).OrderBy(r => r.ContentHash, StringComparer.Ordinal).ToList();
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return record;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
