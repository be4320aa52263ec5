using System.Text.Json.Serialization;

namespace Assistants.Kit.Conversations.Internal.Stores;

/// <summary>A pending tool call as the durable stores keep it in JSON (the same shape in SQLite and Redis).</summary>
internal sealed record StoredToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments,
    [property: JsonPropertyName("output"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Output = null,
    [property: JsonPropertyName("approval"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ApprovalState? Approval = null,
    [property: JsonPropertyName("approvalRequestedAt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ApprovalRequestedAt = null,
    [property: JsonPropertyName("approvalExpiresAt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ApprovalExpiresAt = null)
{
    public static StoredToolCall From(PendingToolCall call) =>
        new(call.ToolCallId, call.Name, call.ArgumentsJson, call.Output, call.Approval, call.ApprovalRequestedAt, call.ApprovalExpiresAt);

    public PendingToolCall ToPendingToolCall() =>
        new(Id, Name, Arguments, Output) { Approval = Approval, ApprovalRequestedAt = ApprovalRequestedAt, ApprovalExpiresAt = ApprovalExpiresAt };
}
