using System.Text.Json.Serialization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

// The emulator's state. Every record is a plain, JSON-serialisable class so that the whole state can be written to the
// StatePath file and read back. Fields that only make sense while the process runs (the scripted plan of a run, the
// SSE journal) are [JsonIgnore]d.

/// <summary>Everything the emulator knows; persisted as one JSON document.</summary>
internal sealed class StateData
{
    public int FormatVersion { get; set; } = 1;

    /// <summary>A global, monotonically increasing sequence that orders objects created in the same second.</summary>
    public long Sequence { get; set; }

    public Dictionary<string, AssistantRecord> Assistants { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ThreadRecord> Threads { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Stored responses (<c>store: true</c>) by ID.</summary>
    public Dictionary<string, ResponseRecord> Responses { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ConversationRecord> Conversations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The kit turns of the Responses surface by their internal ID.</summary>
    public Dictionary<string, TurnRecord> Turns { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Which turn issued each function call (<c>call_id</c> → turn ID).</summary>
    public Dictionary<string, string> CallTurns { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Uploaded and generated files by ID.</summary>
    public Dictionary<string, FileRecord> Files { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Vector stores by ID.</summary>
    public Dictionary<string, VectorStoreRecord> VectorStores { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every ID ever handed out (deleted objects included), so that a restarted emulator never reuses one.</summary>
    public HashSet<string> IssuedIds { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class AssistantRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string Model { get; set; } = "";
    public string? Instructions { get; set; }
    public JsonArray Tools { get; set; } = [];
    public double? TopP { get; set; } = 1.0;
    public double? Temperature { get; set; } = 1.0;
    public string? ReasoningEffort { get; set; }
    public JsonObject ToolResources { get; set; } = [];
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public JsonNode? ResponseFormat { get; set; } = JsonValue.Create("auto");
}

internal sealed class ThreadRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public JsonObject ToolResources { get; set; } = [];
    public List<MessageRecord> Messages { get; set; } = [];
    public List<RunRecord> Runs { get; set; } = [];
}

internal sealed class MessageRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string ThreadId { get; set; } = "";
    public string Role { get; set; } = "user";
    public JsonArray Content { get; set; } = [];
    public string? AssistantId { get; set; }
    public string? RunId { get; set; }
    public JsonArray Attachments { get; set; } = [];
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public string Status { get; set; } = "completed";
    public string? IncompleteReason { get; set; }
    public long? CompletedAt { get; set; }
    public long? IncompleteAt { get; set; }
}

internal sealed class ToolCallRecord
{
    public string Id { get; set; } = "";

    /// <summary><c>function</c>, or a built-in tool the emulator runs itself: <c>file_search</c>, <c>code_interpreter</c>.</summary>
    public string Type { get; set; } = "function";

    /// <summary>A built-in call's details as rendered in a run step (<c>file_search</c> / <c>code_interpreter</c> object).</summary>
    public JsonObject? Details { get; set; }

    public string Name { get; set; } = "";
    public string Arguments { get; set; } = "";
    public string? Output { get; set; }
    public string StepId { get; set; } = "";
}

internal sealed class UsageRecord
{
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int CachedTokens { get; set; }
    public int ReasoningTokens { get; set; }

    public int TotalTokens => PromptTokens + CompletionTokens;

    public void Add(UsageRecord other)
    {
        PromptTokens += other.PromptTokens;
        CompletionTokens += other.CompletionTokens;
        CachedTokens += other.CachedTokens;
        ReasoningTokens += other.ReasoningTokens;
    }
}

internal sealed class RunErrorRecord
{
    public string Code { get; set; } = "server_error";
    public string Message { get; set; } = "";
}

internal sealed class StepRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public string RunId { get; set; } = "";
    public string AssistantId { get; set; } = "";
    public string ThreadId { get; set; } = "";
    public string Type { get; set; } = "message_creation";
    public string Status { get; set; } = "in_progress";
    public long? CancelledAt { get; set; }
    public long? CompletedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? FailedAt { get; set; }
    public RunErrorRecord? LastError { get; set; }

    /// <summary>For message_creation steps.</summary>
    public string? MessageId { get; set; }

    /// <summary>For tool_calls steps: the IDs of the calls (details live in <see cref="RunRecord.ToolCalls"/>).</summary>
    public List<string> ToolCallIds { get; set; } = [];

    public UsageRecord? Usage { get; set; }
}

internal sealed class RunRecord : IScriptProgress
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }

    /// <summary>The ordinal of the run among the runs created by this emulator process (1-based; 0 after a reload).</summary>
    [JsonIgnore]
    public int Number { get; set; }

    public DateTimeOffset Created { get; set; }
    public string ThreadId { get; set; } = "";
    public string AssistantId { get; set; } = "";
    public string Status { get; set; } = "queued";
    public long? StartedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? CancelledAt { get; set; }
    public long? FailedAt { get; set; }
    public long? CompletedAt { get; set; }
    public RunErrorRecord? LastError { get; set; }
    public string Model { get; set; } = "";
    public string? Instructions { get; set; }
    public JsonArray Tools { get; set; } = [];
    public JsonObject ToolResources { get; set; } = [];
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public string? ReasoningEffort { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public int? MaxPromptTokens { get; set; }
    public string TruncationType { get; set; } = "auto";
    public int? TruncationLastMessages { get; set; }
    public string? IncompleteReason { get; set; }
    public UsageRecord? Usage { get; set; }
    public JsonNode? ResponseFormat { get; set; }
    public JsonNode? ToolChoice { get; set; }
    public bool ParallelToolCalls { get; set; } = true;

    /// <summary>When the current timed phase (queued, in_progress model step, cancelling) ends.</summary>
    public DateTimeOffset? PhaseEndsAt { get; set; }

    /// <summary>The absolute expiry deadline (created + RequiresActionTimeout).</summary>
    public DateTimeOffset Deadline { get; set; }

    /// <summary>How long one model step takes for this run.</summary>
    public TimeSpan StepDuration { get; set; }

    /// <summary>How many scripted tool rounds have been issued so far.</summary>
    public int RoundsIssued { get; set; }

    /// <summary>How many scripted built-in tool steps (file search, code interpreter) have run so far.</summary>
    public int BuiltInStepsRun { get; set; }

    /// <summary>Whether run steps show file search results' text (the run was created with the <c>include[]</c> that asks for it).</summary>
    public bool IncludeFileSearchContent { get; set; }

    /// <summary>What the built-in steps add to the reply: citations of search results, links to generated files.</summary>
    public List<ReplyAnnotationRecord> ReplyAnnotations { get; set; } = [];

    /// <summary>Images code interpreter steps produced (shown as <c>image_file</c> parts of the reply).</summary>
    public List<string> OutputImageIds { get; set; } = [];

    /// <summary>Calls of a scripted round that still wait to be issued (parallel_tool_calls = false issues one per round).</summary>
    public List<ToolCallRecord> QueuedCalls { get; set; } = [];

    /// <summary>The calls currently waiting for outputs (the required_action).</summary>
    public List<string> PendingCallIds { get; set; } = [];

    public List<ToolCallRecord> ToolCalls { get; set; } = [];
    public List<StepRecord> Steps { get; set; } = [];

    /// <summary>Usage accumulated over the model steps so far.</summary>
    public UsageRecord Accumulated { get; set; } = new();

    /// <summary>The scripted behaviour (not persisted: a reloaded active run is matched against the script again).</summary>
    [JsonIgnore]
    public ScriptedRun? Plan { get; set; }

    [JsonIgnore]
    public bool PlanResolved { get; set; }

    /// <summary>SSE events recorded while at least one stream follows this run.</summary>
    [JsonIgnore]
    public List<SseEvent> Journal { get; } = [];

    [JsonIgnore]
    public int Followers { get; set; }

    [JsonIgnore]
    public bool IsActive => Status is RunStatus.Queued or RunStatus.InProgress or RunStatus.RequiresAction or RunStatus.Cancelling;

    [JsonIgnore]
    public bool IsTerminal => !IsActive;
}

internal static class RunStatus
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string RequiresAction = "requires_action";
    public const string Cancelling = "cancelling";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string Expired = "expired";
}

/// <summary>One server-sent event: its name and its (already rendered) data.</summary>
internal readonly record struct SseEvent(string Name, string Data);

/// <summary>An annotation a built-in step adds to the reply: a citation marker, or the sandbox link of a generated file.</summary>
internal sealed class ReplyAnnotationRecord
{
    /// <summary><c>file_citation</c> or <c>file_path</c>.</summary>
    public string Kind { get; set; } = "file_citation";

    /// <summary>The citation marker, or the sandbox path (<c>sandbox:/mnt/data/name</c>).</summary>
    public string Text { get; set; } = "";

    public string FileId { get; set; } = "";

    /// <summary>For a generated file: the file's name (the link's label).</summary>
    public string? FileName { get; set; }
}
