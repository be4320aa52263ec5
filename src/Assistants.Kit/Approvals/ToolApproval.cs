using System.Buffers.Text;
using System.Text;

namespace Assistants.Kit;

/// <summary>Where an approval stands.</summary>
public enum ApprovalState
{
    /// <summary>Waiting for a person's decision.</summary>
    Pending,

    /// <summary>Approved: the tool ran and its output was submitted.</summary>
    Approved,

    /// <summary>Rejected: the model got a rejection output it can read.</summary>
    Rejected,

    /// <summary>The run expired (or ended) before anyone decided.</summary>
    Expired,
}

/// <summary>A tool call waiting for (or past) a person's decision.</summary>
/// <param name="ApprovalId">The opaque approval ID to pass to <see cref="AssistantRunner.ApproveAsync"/> or <see cref="AssistantRunner.RejectAsync"/>.</param>
/// <param name="ConversationKey">The conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation) ID.</param>
/// <param name="RunId">The run (or response) ID.</param>
/// <param name="ToolCallId">The tool call ID.</param>
/// <param name="ToolName">The tool name.</param>
/// <param name="ArgumentsJson">The arguments the model sent.</param>
/// <param name="State">Where the approval stands.</param>
/// <param name="RequestedAt">When the approval was requested.</param>
/// <param name="ExpiresAt">When the run expires on the server (Assistants protocol), or the kit's approval timeout (Responses).</param>
public sealed record ToolApproval(
    string ApprovalId,
    string ConversationKey,
    AssistantsProtocol Protocol,
    string ThreadId,
    string RunId,
    string ToolCallId,
    string ToolName,
    string ArgumentsJson,
    ApprovalState State,
    DateTimeOffset RequestedAt,
    DateTimeOffset? ExpiresAt)
{
    internal static string CreateId(string conversationKey, AssistantsProtocol protocol, string toolCallId)
    {
        var raw = Encoding.UTF8.GetBytes($"{(int)protocol}\n{toolCallId}\n{conversationKey}");
        return "apr_" + Base64Url.EncodeToString(raw);
    }

    internal static (string ConversationKey, AssistantsProtocol Protocol, string ToolCallId)? ParseId(string approvalId)
    {
        if (!approvalId.StartsWith("apr_", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(approvalId.AsSpan(4))).Split('\n', 3);
            return parts.Length == 3 && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var protocol) && Enum.IsDefined((AssistantsProtocol)protocol)
                ? (parts[2], (AssistantsProtocol)protocol, parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Thrown when an approval was already decided (by another approver, perhaps in another process).</summary>
public sealed class ApprovalAlreadyDecidedException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ApprovalAlreadyDecidedException"/> class.</summary>
    /// <param name="approvalId">The approval ID.</param>
    /// <param name="state">Its state.</param>
    public ApprovalAlreadyDecidedException(string approvalId, ApprovalState state)
        : base($"The approval {approvalId} was already decided: {state}.")
    {
        ApprovalId = approvalId;
        State = state;
    }

    /// <summary>Gets the approval ID.</summary>
    public string ApprovalId { get; }

    /// <summary>Gets the decision that was made.</summary>
    public ApprovalState State { get; }
}

/// <summary>Thrown when an approval cannot be decided any more: the run expired or ended before the decision.</summary>
public sealed class ApprovalExpiredException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ApprovalExpiredException"/> class.</summary>
    /// <param name="approvalId">The approval ID.</param>
    /// <param name="runStatus">The run's status.</param>
    public ApprovalExpiredException(string approvalId, RunStatus runStatus)
        : base($"The approval {approvalId} expired: its run is {runStatus.ToWireString()}. The conversation can continue with a new message.")
    {
        ApprovalId = approvalId;
        RunStatus = runStatus;
    }

    /// <summary>Gets the approval ID.</summary>
    public string ApprovalId { get; }

    /// <summary>Gets the run's status.</summary>
    public RunStatus RunStatus { get; }
}

/// <summary>Thrown when no approval with the given ID exists.</summary>
public sealed class ApprovalNotFoundException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ApprovalNotFoundException"/> class.</summary>
    /// <param name="approvalId">The approval ID.</param>
    public ApprovalNotFoundException(string approvalId)
        : base($"No approval with ID '{approvalId}' exists.") => ApprovalId = approvalId;

    /// <summary>Gets the approval ID.</summary>
    public string ApprovalId { get; }
}

/// <summary>
/// Thrown when a message arrives for a conversation whose run is paused for approvals: decide them first
/// (<see cref="AssistantRunner.ApproveAsync"/>, <see cref="AssistantRunner.RejectAsync"/>), or wait until the run expires.
/// </summary>
public sealed class ConversationAwaitingApprovalException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ConversationAwaitingApprovalException"/> class.</summary>
    /// <param name="conversationKey">The conversation key.</param>
    /// <param name="approvals">The approvals waiting.</param>
    public ConversationAwaitingApprovalException(string conversationKey, IReadOnlyList<ToolApproval> approvals)
        : base($"Conversation '{conversationKey}' waits for {approvals.Count} approval(s) ({string.Join(", ", approvals.Select(a => a.ToolName))}); decide them before sending a new message.")
    {
        ConversationKey = conversationKey;
        Approvals = approvals;
    }

    /// <summary>Gets the conversation key.</summary>
    public string ConversationKey { get; }

    /// <summary>Gets the approvals waiting.</summary>
    public IReadOnlyList<ToolApproval> Approvals { get; }
}
