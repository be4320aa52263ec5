using System.Globalization;

namespace Assistants.Kit;

/// <summary>A file uploaded with purpose <c>assistants</c>.</summary>
/// <param name="Id">The file ID.</param>
/// <param name="FileName">The file name.</param>
/// <param name="Bytes">The size in bytes.</param>
/// <param name="CreatedAt">When the service stored it.</param>
public sealed record UploadedFile(string Id, string FileName, long Bytes, DateTimeOffset CreatedAt);

/// <summary>A vector store as the service reports it.</summary>
/// <param name="Id">The vector store ID.</param>
/// <param name="Name">Its name.</param>
/// <param name="Status"><c>in_progress</c> (files are being processed), <c>completed</c> or <c>expired</c>.</param>
/// <param name="UsageBytes">The storage it uses (what vector storage is billed on).</param>
/// <param name="FileCount">Its files, in every state.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Metadata">Its metadata (the kit's <c>kit_vector_store</c> key holds the name the kit finds it by).</param>
public sealed record VectorStoreInfo(
    string Id,
    string? Name,
    string Status,
    long UsageBytes,
    int FileCount,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>Where a file is in a vector store.</summary>
public enum VectorStoreFileState
{
    /// <summary>Being processed.</summary>
    InProgress,

    /// <summary>Processed: searchable.</summary>
    Completed,

    /// <summary>Processing failed (see the error code: <c>unsupported_file</c>, <c>invalid_file</c>, <c>server_error</c>).</summary>
    Failed,

    /// <summary>Processing was cancelled.</summary>
    Cancelled,
}

/// <summary>One file of a vector store after processing.</summary>
/// <param name="FileId">The file ID.</param>
/// <param name="State">Where it is.</param>
/// <param name="ErrorCode">Why it failed: <c>unsupported_file</c>, <c>invalid_file</c> or <c>server_error</c>.</param>
/// <param name="ErrorMessage">The service's message.</param>
/// <param name="UsageBytes">The storage the file uses in the vector store.</param>
public sealed record VectorStoreFileResult(string FileId, VectorStoreFileState State, string? ErrorCode = null, string? ErrorMessage = null, long UsageBytes = 0)
{
    /// <summary>Gets the file's name, when the kit ingested it (its <c>kit_file</c> attribute).</summary>
    public string? FileName { get; init; }

    /// <summary>Gets the SHA-256 of its content, when the kit ingested it (its <c>kit_sha256</c> attribute).</summary>
    public string? ContentHash { get; init; }
}

/// <summary>The outcome of adding files to a vector store and waiting until every one is processed.</summary>
/// <param name="VectorStoreId">The vector store.</param>
/// <param name="BatchIds">The file batches created (one per 500 files).</param>
/// <param name="Files">Every file, with its final state.</param>
public sealed record FileBatchResult(string VectorStoreId, IReadOnlyList<string> BatchIds, IReadOnlyList<VectorStoreFileResult> Files)
{
    /// <summary>Gets the files that failed or were cancelled.</summary>
    public IReadOnlyList<VectorStoreFileResult> Failures => [.. Files.Where(f => f.State is VectorStoreFileState.Failed or VectorStoreFileState.Cancelled)];
}

/// <summary>What ingestion did with a file.</summary>
public enum IngestionOutcome
{
    /// <summary>Uploaded and added to the vector store.</summary>
    Uploaded,

    /// <summary>The same content (SHA-256) was already in the vector store: nothing uploaded, nothing indexed.</summary>
    Reused,

    /// <summary>The same content was in the vector store but had failed transiently (<c>server_error</c>): added again, not uploaded.</summary>
    Readded,

    /// <summary>
    /// An earlier ingestion had uploaded the content but stopped before adding it to the vector store (the kit's
    /// <see cref="IFileIngestionStore"/> remembered the upload, and the server still has it): added now, not uploaded again.
    /// </summary>
    Resumed,
}

/// <summary>One file of an ingestion.</summary>
/// <param name="FileName">The file name.</param>
/// <param name="FileId">The file ID (new or reused).</param>
/// <param name="ContentHash">The SHA-256 of its content (lowercase hex), kept on the vector store file as <c>kit_sha256</c>.</param>
/// <param name="Bytes">The size in bytes.</param>
/// <param name="Outcome">What ingestion did.</param>
/// <param name="State">Its state in the vector store.</param>
/// <param name="ErrorCode">Why it failed, when it did.</param>
/// <param name="ErrorMessage">The service's message, when it failed.</param>
public sealed record IngestedFile(
    string FileName,
    string FileId,
    string ContentHash,
    long Bytes,
    IngestionOutcome Outcome,
    VectorStoreFileState State,
    string? ErrorCode = null,
    string? ErrorMessage = null)
{
    /// <summary>Gets a value indicating whether the file is searchable.</summary>
    public bool IsCompleted => State == VectorStoreFileState.Completed;
}

/// <summary>
/// The outcome of <see cref="AssistantFiles.IngestAsync"/>: every file's state, with failures reported rather than hidden
/// (<see cref="Failures"/>, <see cref="EnsureSuccess"/>).
/// </summary>
public sealed class FileIngestionResult
{
    internal FileIngestionResult(string vectorStoreId, bool vectorStoreCreated, IReadOnlyList<IngestedFile> files, IReadOnlyList<string> removedFileIds)
    {
        VectorStoreId = vectorStoreId;
        VectorStoreCreated = vectorStoreCreated;
        Files = files;
        RemovedFileIds = removedFileIds;
    }

    /// <summary>Gets the vector store ID (put it in <see cref="AssistantDefinition.VectorStoreIds"/>).</summary>
    public string VectorStoreId { get; }

    /// <summary>Gets a value indicating whether this ingestion created the vector store.</summary>
    public bool VectorStoreCreated { get; }

    /// <summary>Gets every file, in the order given.</summary>
    public IReadOnlyList<IngestedFile> Files { get; }

    /// <summary>Gets the files removed because a file of the same name now has other content (their uploads were deleted).</summary>
    public IReadOnlyList<string> RemovedFileIds { get; }

    /// <summary>Gets how many files were uploaded.</summary>
    public int Uploaded => Files.Count(f => f.Outcome == IngestionOutcome.Uploaded);

    /// <summary>Gets how many files were already there.</summary>
    public int Reused => Files.Count(f => f.Outcome == IngestionOutcome.Reused);

    /// <summary>Gets the files that are not searchable (failed or cancelled).</summary>
    public IReadOnlyList<IngestedFile> Failures => [.. Files.Where(f => f.State is VectorStoreFileState.Failed or VectorStoreFileState.Cancelled)];

    /// <summary>Gets a value indicating whether every file is searchable.</summary>
    public bool Succeeded => Files.All(f => f.IsCompleted);

    /// <summary>Throws <see cref="FileIngestionException"/> when a file is not searchable.</summary>
    /// <returns>This result.</returns>
    /// <exception cref="FileIngestionException">At least one file failed or was cancelled.</exception>
    public FileIngestionResult EnsureSuccess() => Succeeded ? this : throw new FileIngestionException(VectorStoreId, Failures);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"vector store {VectorStoreId}: {Files.Count} files, {Uploaded} uploaded, {Reused} reused, {Failures.Count} failed");
}

/// <summary>Files of an ingestion were not processed; <see cref="Failures"/> says which and why.</summary>
public sealed class FileIngestionException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="FileIngestionException"/> class.</summary>
    /// <param name="vectorStoreId">The vector store.</param>
    /// <param name="failures">The files that failed.</param>
    public FileIngestionException(string vectorStoreId, IReadOnlyList<IngestedFile> failures)
        : base(Describe(vectorStoreId, failures))
    {
        VectorStoreId = vectorStoreId;
        Failures = failures;
    }

    /// <summary>Gets the vector store.</summary>
    public string VectorStoreId { get; }

    /// <summary>Gets the files that failed, with the service's error codes and messages.</summary>
    public IReadOnlyList<IngestedFile> Failures { get; }

    private static string Describe(string vectorStoreId, IReadOnlyList<IngestedFile> failures) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{failures.Count} file(s) were not processed in vector store {vectorStoreId}: {string.Join("; ", failures.Select(f => $"'{f.FileName}' ({f.FileId}) {f.State.ToString().ToLowerInvariant()}: {f.ErrorCode ?? "no code"}: {f.ErrorMessage ?? "no message"}"))}");
}

/// <summary>The wait for files to be processed passed <see cref="FileProcessingOptions.Timeout"/>; the service goes on processing them.</summary>
public sealed class FileProcessingTimeoutException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="FileProcessingTimeoutException"/> class.</summary>
    /// <param name="vectorStoreId">The vector store.</param>
    /// <param name="timeout">The timeout that passed.</param>
    /// <param name="pending">How many files were still being processed.</param>
    public FileProcessingTimeoutException(string vectorStoreId, TimeSpan timeout, int pending)
        : base(string.Create(CultureInfo.InvariantCulture, $"Files of vector store {vectorStoreId} were still being processed after {timeout} ({pending} pending); the service goes on, and ingesting again later picks them up."))
    {
        VectorStoreId = vectorStoreId;
        Timeout = timeout;
        Pending = pending;
    }

    /// <summary>Gets the vector store.</summary>
    public string VectorStoreId { get; }

    /// <summary>Gets the timeout that passed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets how many files were still being processed.</summary>
    public int Pending { get; }
}

/// <summary>What <see cref="AssistantFiles.DeleteVectorStoreAsync"/> deleted.</summary>
/// <param name="VectorStoreId">The vector store.</param>
/// <param name="VectorStoreDeleted">Whether the vector store was deleted (false when it was already gone).</param>
/// <param name="DeletedFileIds">The uploads the kit had made for it and deleted.</param>
public sealed record VectorStoreDeletion(string VectorStoreId, bool VectorStoreDeleted, IReadOnlyList<string> DeletedFileIds);

/// <summary>The kind of a file a run produced.</summary>
public enum OutputFileKind
{
    /// <summary>An image (a code interpreter chart, an <c>image_file</c> message part).</summary>
    Image,

    /// <summary>A file code interpreter wrote, linked from the reply through a <c>file_path</c> annotation.</summary>
    GeneratedFile,
}

/// <summary>A file a run produced, to download with <see cref="AssistantFiles.DownloadAsync(string, Stream, CancellationToken)"/>.</summary>
/// <param name="FileId">The file ID.</param>
/// <param name="FileName">A file name for it: the sandbox name of a generated file, <c>{FileId}.png</c> for an image.</param>
/// <param name="Kind">What it is.</param>
public sealed record OutputFile(string FileId, string FileName, OutputFileKind Kind);

/// <summary>An output file saved to disk.</summary>
/// <param name="File">The file.</param>
/// <param name="Path">Where it was written.</param>
/// <param name="Bytes">Its size.</param>
public sealed record SavedOutputFile(OutputFile File, string Path, long Bytes);
