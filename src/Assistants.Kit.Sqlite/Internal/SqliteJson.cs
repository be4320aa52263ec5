using System.Text.Json.Serialization;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>A pending tool call as stored in the <c>pending_tool_calls</c> JSON column.</summary>
internal sealed record StoredToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments,
    [property: JsonPropertyName("output"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Output = null);

/// <summary>Source-generated JSON for the list columns.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredToolCall[]))]
[JsonSerializable(typeof(RunJournal))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
