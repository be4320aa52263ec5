using Assistants.Kit.Conversations.Internal.Stores;
using System.Text.Json.Serialization;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// A binding as stored in the <c>data</c> field of its hash (the version and the fencing token live in the
/// <c>version</c> and <c>fence</c> fields, which the compare-and-set script reads). A storage format of its own, so the public record can evolve without breaking data.
/// </summary>
internal sealed class StoredBinding
{
    [JsonPropertyName("key")]
    public required string ConversationKey { get; init; }

    [JsonPropertyName("protocol")]
    public required AssistantsProtocol Protocol { get; init; }

    [JsonPropertyName("threadId")]
    public required string ThreadId { get; init; }

    [JsonPropertyName("assistantId")]
    public string? AssistantId { get; init; }

    [JsonPropertyName("definitionVersion")]
    public string? DefinitionVersion { get; init; }

    [JsonPropertyName("activeRunId")]
    public string? ActiveRunId { get; init; }

    [JsonPropertyName("activeRunStatus")]
    public RunStatus? ActiveRunStatus { get; init; }

    [JsonPropertyName("pendingToolCalls")]
    public StoredToolCall[] PendingToolCalls { get; init; } = [];

    [JsonPropertyName("messageCount")]
    public int MessageCount { get; init; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("updatedAt")]
    public DateTimeOffset UpdatedAt { get; init; }

    [JsonPropertyName("previousThreadIds")]
    public string[] PreviousThreadIds { get; init; } = [];

    [JsonPropertyName("journal")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RunJournal? Journal { get; init; }

    public static StoredBinding From(ConversationBinding binding) => new()
    {
        ConversationKey = binding.ConversationKey,
        Protocol = binding.Protocol,
        ThreadId = binding.ThreadId,
        AssistantId = binding.AssistantId,
        DefinitionVersion = binding.DefinitionVersion,
        ActiveRunId = binding.ActiveRunId,
        ActiveRunStatus = binding.ActiveRunStatus,
        PendingToolCalls = [.. (binding.PendingToolCalls ?? []).Select(StoredToolCall.From)],
        MessageCount = binding.MessageCount,
        CreatedAt = binding.CreatedAt,
        UpdatedAt = binding.UpdatedAt,
        PreviousThreadIds = [.. binding.PreviousThreadIds ?? []],
        Journal = binding.Journal,
    };

    public ConversationBinding ToBinding(long version, long fencingToken) => new()
    {
        ConversationKey = ConversationKey,
        Protocol = Protocol,
        ThreadId = ThreadId,
        AssistantId = AssistantId,
        DefinitionVersion = DefinitionVersion,
        ActiveRunId = ActiveRunId,
        ActiveRunStatus = ActiveRunStatus,
        PendingToolCalls = [.. PendingToolCalls.Select(static c => c.ToPendingToolCall())],
        MessageCount = MessageCount,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        PreviousThreadIds = PreviousThreadIds,
        Journal = Journal,
        FencingToken = fencingToken,
        Version = version,
    };
}

/// <summary>An assistant record as stored in its string key.</summary>
internal sealed record StoredAssistant(
    [property: JsonPropertyName("assistantId")] string AssistantId,
    [property: JsonPropertyName("definitionVersion")] string DefinitionVersion,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt);

/// <summary>
/// A usage ledger entry as stored in the <c>{prefix}usage:entries</c> hash: a storage format of its own (short names,
/// zeros and nulls left out), decimals as strings so every digit survives any reader.
/// </summary>
internal sealed class StoredUsageEntry
{
    [JsonPropertyName("at")]
    public DateTimeOffset Timestamp { get; init; }

    [JsonPropertyName("kind")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public UsageEntryKind Kind { get; init; }

    [JsonPropertyName("key")]
    public string? ConversationKey { get; init; }

    [JsonPropertyName("thread")]
    public string? ThreadId { get; init; }

    [JsonPropertyName("run")]
    public string? RunId { get; init; }

    [JsonPropertyName("assistant")]
    public string? AssistantId { get; init; }

    [JsonPropertyName("assistantName")]
    public string? AssistantName { get; init; }

    [JsonPropertyName("model")]
    public string? Model { get; init; }

    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; init; }

    [JsonPropertyName("in")]
    public long InputTokens { get; init; }

    [JsonPropertyName("out")]
    public long OutputTokens { get; init; }

    [JsonPropertyName("cachedIn")]
    public long CachedInputTokens { get; init; }

    [JsonPropertyName("reasoning")]
    public long ReasoningTokens { get; init; }

    [JsonPropertyName("tokenCost")]
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public decimal? TokenCost { get; init; }

    [JsonPropertyName("toolCost")]
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public decimal ToolCost { get; init; }

    [JsonPropertyName("codeInterpreter")]
    public int CodeInterpreterSessions { get; init; }

    [JsonPropertyName("fileSearch")]
    public int FileSearchCalls { get; init; }

    [JsonPropertyName("vectorStore")]
    public string? VectorStoreId { get; init; }

    [JsonPropertyName("gbDays")]
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public decimal VectorStorageGigabyteDays { get; init; }

    public static StoredUsageEntry From(UsageEntry entry) => new()
    {
        Timestamp = entry.Timestamp,
        Kind = entry.Kind,
        ConversationKey = entry.ConversationKey,
        ThreadId = entry.ThreadId,
        RunId = entry.RunId,
        AssistantId = entry.AssistantId,
        AssistantName = entry.AssistantName,
        Model = entry.Model,
        Tags = entry.Tags is { Count: > 0 } tags ? new Dictionary<string, string>(tags, StringComparer.Ordinal) : null,
        InputTokens = entry.Usage.InputTokens,
        OutputTokens = entry.Usage.OutputTokens,
        CachedInputTokens = entry.Usage.CachedInputTokens,
        ReasoningTokens = entry.Usage.ReasoningTokens,
        TokenCost = entry.TokenCost,
        ToolCost = entry.ToolCost,
        CodeInterpreterSessions = entry.CodeInterpreterSessions,
        FileSearchCalls = entry.FileSearchCalls,
        VectorStoreId = entry.VectorStoreId,
        VectorStorageGigabyteDays = entry.VectorStorageGigabyteDays,
    };

    public UsageEntry ToEntry() => new()
    {
        Timestamp = Timestamp,
        Kind = Kind,
        ConversationKey = ConversationKey,
        ThreadId = ThreadId,
        RunId = RunId,
        AssistantId = AssistantId,
        AssistantName = AssistantName,
        Model = Model,
        Tags = Tags is { Count: > 0 } tags ? new Dictionary<string, string>(tags, StringComparer.Ordinal).AsReadOnly() : UsageEntryTags.Empty,
        Usage = new TokenUsage(InputTokens, OutputTokens, CachedInputTokens, ReasoningTokens),
        TokenCost = TokenCost,
        ToolCost = ToolCost,
        CodeInterpreterSessions = CodeInterpreterSessions,
        FileSearchCalls = FileSearchCalls,
        VectorStoreId = VectorStoreId,
        VectorStorageGigabyteDays = VectorStorageGigabyteDays,
    };
}

/// <summary>The tags of an entry that has none.</summary>
internal static class UsageEntryTags
{
    public static IReadOnlyDictionary<string, string> Empty { get; } = new Dictionary<string, string>(StringComparer.Ordinal).AsReadOnly();
}

/// <summary>Source-generated JSON for ledger entries: enums as their names, nulls and zeros left out.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(StoredUsageEntry))]
internal sealed partial class RedisUsageJsonContext : JsonSerializerContext;

/// <summary>
/// A file ingestion record as stored in its name's hash (the field is the content hash; the vector store name is the
/// key). A storage format of its own, so the public record can evolve without breaking data.
/// </summary>
internal sealed class StoredFileIngestion
{
    [JsonPropertyName("fileId")]
    public required string FileId { get; init; }

    [JsonPropertyName("fileName")]
    public required string FileName { get; init; }

    [JsonPropertyName("bytes")]
    public long Bytes { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("vectorStoreId")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VectorStoreId { get; init; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("updatedAt")]
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Source-generated JSON for the stored documents; enums as their names.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredBinding))]
[JsonSerializable(typeof(StoredAssistant))]
[JsonSerializable(typeof(StoredFileIngestion))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
