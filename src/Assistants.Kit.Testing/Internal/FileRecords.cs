using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Assistants.Kit.Testing.Internal;

// The files and vector stores part of the emulator's state (persisted with the rest; file contents as base64).

/// <summary>An uploaded (or code-interpreter generated) file.</summary>
internal sealed class FileRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string FileName { get; set; } = "";

    /// <summary><c>assistants</c> for uploads, <c>assistants_output</c> for what code interpreter produced.</summary>
    public string Purpose { get; set; } = "assistants";

    public byte[] Content { get; set; } = [];
}

/// <summary>A vector store with its files and batches.</summary>
internal sealed class VectorStoreRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public JsonObject? ExpiresAfter { get; set; }
    public long LastActiveAt { get; set; }
    public List<VectorStoreFileRecord> Files { get; set; } = [];
    public List<FileBatchRecord> Batches { get; set; } = [];
}

/// <summary>A file in a vector store. Its processing ends at <see cref="ReadyAt"/>, with <see cref="PendingError"/> when it fails.</summary>
internal sealed class VectorStoreFileRecord
{
    public string FileId { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public DateTimeOffset ReadyAt { get; set; }
    public string Status { get; set; } = "in_progress";
    public string? BatchId { get; set; }
    public JsonObject ChunkingStrategy { get; set; } = [];
    public JsonObject Attributes { get; set; } = [];

    /// <summary>The error the file ends with (decided when it is added): <c>unsupported_file</c>, <c>invalid_file</c> or a scripted one.</summary>
    public RunErrorRecord? PendingError { get; set; }

    public RunErrorRecord? LastError { get; set; }

    public long UsageBytes { get; set; }

    /// <summary>The bytes the file will use once processed (its size).</summary>
    public long Bytes { get; set; }

    [JsonIgnore]
    public bool IsProcessing => Status == "in_progress";
}

/// <summary>A file batch: the files it added (their state lives on the vector store files).</summary>
internal sealed class FileBatchRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string VectorStoreId { get; set; } = "";
    public List<string> FileIds { get; set; } = [];
    public bool Cancelled { get; set; }
}
