using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Assistants.Kit.Testing.Internal;

// The state of the Responses + Conversations surface. Like the Assistants records, these are plain JSON-serialisable
// classes persisted with the rest of StateData. Items (messages, function calls, function call outputs, ...) are kept in
// the stored form the service shows in input_items and conversation item lists (with "id" and "status").

/// <summary>A stored response (only <c>store: true</c> responses are kept in <see cref="StateData.Responses"/>).</summary>
internal sealed class ResponseRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public DateTimeOffset Created { get; set; }
    public string Status { get; set; } = ResponseStatus.InProgress;
    public bool Background { get; set; }
    public bool Store { get; set; } = true;

    /// <summary>Whether the events are journaled: streamed responses while they stream, background responses always (to resume).</summary>
    public bool RecordEvents { get; set; }

    /// <summary>Whether text and argument deltas carry the random <c>obfuscation</c> padding (foreground streams by default).</summary>
    public bool Obfuscate { get; set; } = true;

    public string Model { get; set; } = "";
    public string? Instructions { get; set; }
    public JsonArray Tools { get; set; } = [];
    public JsonNode? ToolChoice { get; set; } = JsonValue.Create("auto");
    public bool ParallelToolCalls { get; set; } = true;
    public int? MaxOutputTokens { get; set; }
    public int? MaxToolCalls { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public string? PreviousResponseId { get; set; }
    public string? ConversationId { get; set; }
    public double Temperature { get; set; } = 1.0;
    public double TopP { get; set; } = 1.0;
    public int TopLogprobs { get; set; }
    public double FrequencyPenalty { get; set; }
    public double PresencePenalty { get; set; }
    public string Truncation { get; set; } = "disabled";
    public JsonObject Reasoning { get; set; } = new() { ["effort"] = null, ["summary"] = null };
    public JsonObject Text { get; set; } = new() { ["format"] = new JsonObject { ["type"] = "text" }, ["verbosity"] = "medium" };
    public string? ServiceTier { get; set; }
    public string? User { get; set; }
    public string? SafetyIdentifier { get; set; }
    public string? PromptCacheKey { get; set; }
    public string? PromptCacheRetention { get; set; }

    /// <summary>What the model saw before this response's own input: the previous responses' inputs and outputs, or the conversation's items.</summary>
    public List<JsonObject> History { get; set; } = [];

    /// <summary>This response's own input items, in stored form.</summary>
    public List<JsonObject> Input { get; set; } = [];

    public List<JsonObject> Output { get; set; } = [];
    public UsageRecord? Usage { get; set; }
    public RunErrorRecord? Error { get; set; }
    public string? IncompleteReason { get; set; }
    public long? CompletedAt { get; set; }

    /// <summary>When the current timed phase (queued, in_progress) ends.</summary>
    public DateTimeOffset? PhaseEndsAt { get; set; }

    /// <summary>How long the model step of this response takes.</summary>
    public TimeSpan StepDuration { get; set; }

    /// <summary>The kit turn (chain of responses until the model stops calling tools) this response belongs to.</summary>
    public string TurnId { get; set; } = "";

    /// <summary>The SSE events of the response, in <c>sequence_number</c> order (kept for background responses so that a stream can resume).</summary>
    public List<SseEvent> Events { get; set; } = [];

    [JsonIgnore]
    public int Followers { get; set; }

    [JsonIgnore]
    public bool IsActive => Status is ResponseStatus.Queued or ResponseStatus.InProgress;
}

/// <summary>
/// One "kit turn": the chain of responses from a user input until the model stops calling tools — what one Assistants run
/// is. The script is matched once per turn; its tool rounds are issued one response at a time.
/// </summary>
internal sealed class TurnRecord : IScriptProgress
{
    public string Id { get; set; } = "";

    /// <summary>The turn's run ordinal (shared with Assistants runs; 0 after a reload).</summary>
    [JsonIgnore]
    public int Number { get; set; }

    public string FirstResponseId { get; set; } = "";
    public int RoundsIssued { get; set; }
    public List<ToolCallRecord> ToolCalls { get; set; } = [];
    public List<ToolCallRecord> QueuedCalls { get; set; } = [];
    public bool Ended { get; set; }

    [JsonIgnore]
    public ScriptedRun? Plan { get; set; }

    [JsonIgnore]
    public bool PlanResolved { get; set; }
}

internal sealed class ConversationRecord
{
    public string Id { get; set; } = "";
    public long Seq { get; set; }
    public long CreatedAt { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public List<JsonObject> Items { get; set; } = [];
}

internal static class ResponseStatus
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Incomplete = "incomplete";
}
