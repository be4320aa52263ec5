using Assistants.Kit.Conversations.Internal.Stores;
using System.Text.Json.Serialization;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>Source-generated JSON for the list columns.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredToolCall[]))]
[JsonSerializable(typeof(RunJournal))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
