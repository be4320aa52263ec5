namespace Assistants.Kit.Files.Internal;

/// <summary>What every <see cref="IFileIngestionStore"/> requires of a record (shared by the store packages).</summary>
internal static class FileIngestionRecords
{
    /// <summary>Checks a record's key, file ID and name, and that its length is not negative.</summary>
    public static void Validate(FileIngestionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrEmpty(record.VectorStoreName, nameof(record));
        ArgumentException.ThrowIfNullOrEmpty(record.ContentHash, nameof(record));
        ArgumentException.ThrowIfNullOrEmpty(record.FileId, nameof(record));
        ArgumentNullException.ThrowIfNull(record.FileName, nameof(record));
        ArgumentOutOfRangeException.ThrowIfNegative(record.Bytes, nameof(record));
    }

    /// <summary>The status as stored (lowercase text).</summary>
    public static string StatusText(FileIngestionStatus status) => status switch
    {
        FileIngestionStatus.Uploaded => "uploaded",
        FileIngestionStatus.Added => "added",
        FileIngestionStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown file ingestion status."),
    };

    /// <summary>Reads a stored status.</summary>
    public static FileIngestionStatus ParseStatus(string text) => text switch
    {
        "uploaded" => FileIngestionStatus.Uploaded,
        "added" => FileIngestionStatus.Added,
        "failed" => FileIngestionStatus.Failed,
        _ => throw new InvalidOperationException($"'{text}' is not a file ingestion status."),
    };
}
