namespace Assistants.Kit;

/// <summary>How <see cref="AssistantFiles.IngestAsync"/> builds the vector store and adds the files.</summary>
public sealed class FileIngestionOptions
{
    /// <summary>Gets or sets how files are split into chunks; <see langword="null"/> leaves it to the service (auto).</summary>
    public ChunkingStrategy? Chunking { get; set; }

    /// <summary>
    /// Gets attributes stored on every file of the ingestion (strings, numbers or booleans; at most 14, the kit keeps
    /// <c>kit_sha256</c> and <c>kit_file</c>), usable as filters by file search. Per-file attributes come on
    /// <see cref="FileSource.Attributes"/>.
    /// </summary>
    public IDictionary<string, object> Attributes { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Gets metadata stored on a vector store the ingestion creates (the kit adds <c>kit_vector_store</c>).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets after how many days without use a vector store the ingestion creates expires (the service's
    /// <c>expires_after</c> anchored on <c>last_active_at</c>); <see langword="null"/> (the default) keeps it until deleted.
    /// </summary>
    public int? ExpiresAfterDays { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a file of the same name with other content is removed once the new content
    /// is processed (its upload deleted). Default: <see langword="true"/>, so ingesting an edited document replaces it.
    /// </summary>
    public bool ReplaceChangedFiles { get; set; } = true;

    /// <summary>Gets or sets the conversation the vector storage is accounted to, when it belongs to one.</summary>
    public string? ConversationKey { get; set; }

    /// <summary>Gets tags the vector storage is accounted under (tenant, feature…).</summary>
    public IDictionary<string, string> Tags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
