using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Files.Internal;

/// <summary>Every log message of files and vector stores (event IDs 4000–4999), source-generated. No file content is logged.</summary>
internal static partial class FilesLog
{
    [LoggerMessage(4000, LogLevel.Information, "Uploaded file {FileId} '{FileName}' ({Bytes} bytes).")]
    public static partial void Uploaded(ILogger logger, string fileId, string fileName, long bytes);

    [LoggerMessage(4001, LogLevel.Information, "Created vector store {VectorStoreId} '{Name}'.")]
    public static partial void VectorStoreCreated(ILogger logger, string vectorStoreId, string name);

    [LoggerMessage(4002, LogLevel.Debug, "File '{FileName}' is already in vector store {VectorStoreId} as {FileId} (SHA-256 {ContentHash}); not uploaded again.")]
    public static partial void Reused(ILogger logger, string fileName, string vectorStoreId, string fileId, string contentHash);

    [LoggerMessage(4003, LogLevel.Information, "Added file batch {BatchId} of {Count} files to vector store {VectorStoreId}.")]
    public static partial void BatchAdded(ILogger logger, string batchId, int count, string vectorStoreId);

    [LoggerMessage(4004, LogLevel.Debug, "Files of vector store {VectorStoreId} still processing ({Pending} pending); next check in {Delay}.")]
    public static partial void Waiting(ILogger logger, string vectorStoreId, int pending, TimeSpan delay);

    [LoggerMessage(4005, LogLevel.Warning, "File {FileId} '{FileName}' was not processed in vector store {VectorStoreId}: {State} {ErrorCode}: {ErrorMessage}")]
    public static partial void FileFailed(ILogger logger, string fileId, string fileName, string vectorStoreId, string state, string? errorCode, string? errorMessage);

    [LoggerMessage(4006, LogLevel.Information, "Removed file {FileId} ('{FileName}', replaced by new content) from vector store {VectorStoreId}.")]
    public static partial void Replaced(ILogger logger, string fileId, string fileName, string vectorStoreId);

    [LoggerMessage(4007, LogLevel.Information, "Deleted vector store {VectorStoreId} ({Deleted}) and {FileCount} files the kit had uploaded for it.")]
    public static partial void VectorStoreDeleted(ILogger logger, string vectorStoreId, bool deleted, int fileCount);

    [LoggerMessage(4008, LogLevel.Debug, "Downloaded file {FileId} ({Bytes} bytes).")]
    public static partial void Downloaded(ILogger logger, string fileId, long bytes);

    [LoggerMessage(4009, LogLevel.Warning, "The server refused per-file attributes in a file batch ({Reason}); adding the files by ID and setting their attributes one by one.")]
    public static partial void BatchFilesFallback(ILogger logger, string reason);

    [LoggerMessage(4010, LogLevel.Warning, "Files of vector store {VectorStoreId} were still processing after {Timeout} ({Pending} pending).")]
    public static partial void TimedOut(ILogger logger, string vectorStoreId, TimeSpan timeout, int pending);

    [LoggerMessage(4011, LogLevel.Information, "File {FileId} '{FileName}' had failed transiently ({ErrorCode}) in vector store {VectorStoreId}; adding it again.")]
    public static partial void Readding(ILogger logger, string fileId, string fileName, string? errorCode, string vectorStoreId);

    [LoggerMessage(4012, LogLevel.Information, "Attached vector store {VectorStoreId} to thread {ThreadId}.")]
    public static partial void AttachedToThread(ILogger logger, string vectorStoreId, string threadId);

    [LoggerMessage(4013, LogLevel.Information, "File '{FileName}' (SHA-256 {ContentHash}) was uploaded as {FileId} by an earlier ingestion into '{Name}' that did not add it; adding that upload to vector store {VectorStoreId} instead of uploading again.")]
    public static partial void Resuming(ILogger logger, string fileName, string contentHash, string fileId, string name, string vectorStoreId);

    [LoggerMessage(4014, LogLevel.Information, "The recorded upload {FileId} of '{FileName}' for '{Name}' is gone from the server; forgetting it and uploading the file again.")]
    public static partial void RecordedUploadGone(ILogger logger, string fileId, string fileName, string name);

    [LoggerMessage(4015, LogLevel.Error, "The file ingestion store failed to {Operation} for '{Name}'.")]
    public static partial void IngestionStoreFailed(ILogger logger, string operation, string name, Exception exception);

    [LoggerMessage(4016, LogLevel.Debug, "Recorded file {FileId} '{FileName}' of '{Name}' as {Status} (SHA-256 {ContentHash}).")]
    public static partial void Recorded(ILogger logger, string fileId, string fileName, string name, FileIngestionStatus status, string contentHash);

    [LoggerMessage(4017, LogLevel.Debug, "Forgot {Count} file ingestion records of '{Name}' (vector store {VectorStoreId}).")]
    public static partial void RecordsRemoved(ILogger logger, int count, string name, string vectorStoreId);
}
