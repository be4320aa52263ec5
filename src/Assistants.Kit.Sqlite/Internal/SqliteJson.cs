using System.Text.Json.Serialization;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>A pending tool call as stored in the <c>pending_tool_calls</c> JSON column.</summary>
internal sealed record StoredToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments);

/// <summary>Source-generated JSON for the list columns.</summary>
[JsonSerializable(typeof(StoredToolCall[]))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
