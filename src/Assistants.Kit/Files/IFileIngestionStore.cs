namespace Assistants.Kit;

/// <summary>
/// Remembers what <see cref="AssistantFiles.IngestAsync"/> uploaded, per vector store name and content SHA-256, so an
/// ingestion that stopped between an upload and adding the file to the vector store (a crash, a failed batch, a
/// cancellation) reuses the upload next time instead of uploading the content again. Implementations: in-memory
/// (default, <see cref="InMemoryFileIngestionStore"/>), SQLite and Redis (the store packages register theirs, so the
/// mapping survives a restart).
/// </summary>
/// <remarks>
/// The vector store's own listing (the <c>kit_sha256</c> attributes) stays the truth for what is indexed; this store
/// only says which upload holds which content. A record is written right after each upload (status
/// <see cref="FileIngestionStatus.Uploaded"/>) and again when the file is processed in the vector store. Implementations
/// must be thread-safe; a write replaces the record of the same (name, hash) whole.
/// </remarks>
public interface IFileIngestionStore
{
    /// <summary>Gets the record of a content under a vector store name.</summary>
    /// <param name="vectorStoreName">The name given to <see cref="AssistantFiles.IngestAsync"/>.</param>
    /// <param name="contentHash">The content's SHA-256 (lowercase hex).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The record, or <see langword="null"/>.</returns>
    ValueTask<FileIngestionRecord?> GetAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records an upload, or a later state of it (added, failed), replacing the record of the same
    /// (<see cref="FileIngestionRecord.VectorStoreName"/>, <see cref="FileIngestionRecord.ContentHash"/>).
    /// </summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the record is stored.</returns>
    ValueTask SaveAsync(FileIngestionRecord record, CancellationToken cancellationToken = default);

    /// <summary>Forgets the record of a content under a vector store name.</summary>
    /// <param name="vectorStoreName">The vector store name.</param>
    /// <param name="contentHash">The content's SHA-256.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns><see langword="true"/> when a record was removed.</returns>
    ValueTask<bool> RemoveAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default);

    /// <summary>Lists the records of a vector store name, ordered by content hash (ordinal).</summary>
    /// <param name="vectorStoreName">The vector store name.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The records.</returns>
    IAsyncEnumerable<FileIngestionRecord> ListAsync(string vectorStoreName, CancellationToken cancellationToken = default);
}

/// <summary>Where a recorded upload is.</summary>
public enum FileIngestionStatus
{
    /// <summary>Uploaded (<c>POST /files</c> succeeded); not known to be in the vector store yet.</summary>
    Uploaded,

    /// <summary>Added to the vector store and processed: searchable.</summary>
    Added,

    /// <summary>Added to the vector store, but its processing failed or was cancelled.</summary>
    Failed,
}

/// <summary>What <see cref="IFileIngestionStore"/> remembers of one ingested content.</summary>
/// <param name="VectorStoreName">The vector store name given to <see cref="AssistantFiles.IngestAsync"/>.</param>
/// <param name="ContentHash">The content's SHA-256 (lowercase hex).</param>
/// <param name="FileId">The uploaded file's ID.</param>
/// <param name="FileName">The file's name.</param>
/// <param name="Bytes">The content's length in bytes.</param>
/// <param name="Status">Where the upload is.</param>
public sealed record FileIngestionRecord(
    string VectorStoreName,
    string ContentHash,
    string FileId,
    string FileName,
    long Bytes,
    FileIngestionStatus Status)
{
    /// <summary>Gets the ID of the vector store the file is (being) added to, once known.</summary>
    public string? VectorStoreId { get; init; }

    /// <summary>Gets when the upload was recorded.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Gets when the record last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// The <see cref="IFileIngestionStore"/> failed during an ingestion or a deletion. The operation stopped; what it had done
/// on the server before is described in the message, and ingesting again recovers (the vector store's listing is the
/// truth for what is indexed).
/// </summary>
public sealed class FileIngestionStoreException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="FileIngestionStoreException"/> class.</summary>
    /// <param name="vectorStoreName">The vector store name.</param>
    /// <param name="message">What failed and what was left on the server.</param>
    /// <param name="innerException">The store's exception.</param>
    public FileIngestionStoreException(string vectorStoreName, string message, Exception? innerException)
        : base(message, innerException)
    {
        VectorStoreName = vectorStoreName;
    }

    /// <summary>Gets the vector store name.</summary>
    public string VectorStoreName { get; }
}
