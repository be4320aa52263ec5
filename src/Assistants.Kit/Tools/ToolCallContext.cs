namespace Assistants.Kit;

/// <summary>
/// Describes the tool call a handler is executing. Declare a parameter of this type on a tool method to receive it;
/// it is injected by the kit and never appears in the tool's JSON schema.
/// </summary>
public sealed class ToolCallContext
{
    /// <summary>Initializes a new instance of the <see cref="ToolCallContext"/> class.</summary>
    /// <param name="conversationKey">The application's conversation key.</param>
    /// <param name="threadId">The thread (or conversation) ID on the server.</param>
    /// <param name="runId">The run (or response) ID on the server.</param>
    /// <param name="toolCallId">The tool call ID the output is submitted for.</param>
    /// <param name="toolName">The name of the tool being called.</param>
    /// <param name="argumentsJson">The arguments exactly as the model sent them.</param>
    public ToolCallContext(string conversationKey, string threadId, string runId, string toolCallId, string toolName, string argumentsJson)
    {
        ConversationKey = conversationKey;
        ThreadId = threadId;
        RunId = runId;
        ToolCallId = toolCallId;
        ToolName = toolName;
        ArgumentsJson = argumentsJson;
    }

    /// <summary>Gets the application's conversation key.</summary>
    public string ConversationKey { get; }

    /// <summary>Gets the thread (Assistants protocol) or conversation (Responses protocol) ID.</summary>
    public string ThreadId { get; }

    /// <summary>Gets the run (Assistants protocol) or response (Responses protocol) ID.</summary>
    public string RunId { get; }

    /// <summary>Gets the ID of the tool call.</summary>
    public string ToolCallId { get; }

    /// <summary>Gets the name of the tool being called.</summary>
    public string ToolName { get; }

    /// <summary>Gets the raw JSON arguments the model sent.</summary>
    public string ArgumentsJson { get; }
}
