using System.Text.Json.Serialization;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// A binding as stored in the <c>data</c> field of its hash (the version lives in the <c>version</c> field, which the
/// compare-and-set script reads). A storage format of its own, so the public record can evolve without breaking data.
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

    public static StoredBinding From(ConversationBinding binding) => new()
    {
        ConversationKey = binding.ConversationKey,
        Protocol = binding.Protocol,
        ThreadId = binding.ThreadId,
        AssistantId = binding.AssistantId,
        DefinitionVersion = binding.DefinitionVersion,
        ActiveRunId = binding.ActiveRunId,
        ActiveRunStatus = binding.ActiveRunStatus,
        PendingToolCalls = [.. (binding.PendingToolCalls ?? []).Select(static c => new StoredToolCall(c.ToolCallId, c.Name, c.ArgumentsJson))],
        MessageCount = binding.MessageCount,
        CreatedAt = binding.CreatedAt,
        UpdatedAt = binding.UpdatedAt,
        PreviousThreadIds = [.. binding.PreviousThreadIds ?? []],
    };

    public ConversationBinding ToBinding(long version) => new()
    {
        ConversationKey = ConversationKey,
        Protocol = Protocol,
        ThreadId = ThreadId,
        AssistantId = AssistantId,
        DefinitionVersion = DefinitionVersion,
        ActiveRunId = ActiveRunId,
        ActiveRunStatus = ActiveRunStatus,
        PendingToolCalls = [.. PendingToolCalls.Select(static c => new PendingToolCall(c.Id, c.Name, c.Arguments))],
        MessageCount = MessageCount,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        PreviousThreadIds = PreviousThreadIds,
        Version = version,
    };
}

/// <summary>A pending tool call inside a stored binding.</summary>
internal sealed record StoredToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments);

/// <summary>An assistant record as stored in its string key.</summary>
internal sealed record StoredAssistant(
    [property: JsonPropertyName("assistantId")] string AssistantId,
    [property: JsonPropertyName("definitionVersion")] string DefinitionVersion,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt);

/// <summary>Source-generated JSON for the stored documents; enums as their names.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredBinding))]
[JsonSerializable(typeof(StoredAssistant))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
