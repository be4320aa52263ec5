using System.Text.Json;

namespace Assistants.Kit.Tools.Internal;

/// <summary>A tool call the model asked for, as the run engine hands it to the executor.</summary>
internal sealed record ToolCallRequest(string ToolCallId, string Name, string ArgumentsJson);

/// <summary>Where the calls run: the conversation, thread and run, and the per-run DI scope.</summary>
internal sealed record ToolExecutionScope(string ConversationKey, string ThreadId, string RunId, IServiceProvider Services);

/// <summary>A function tool as declared to the model.</summary>
internal sealed record FunctionToolSpec(string Name, string? Description, JsonElement ParametersSchema, bool Strict);

/// <summary>
/// The seam between the run engine and tool execution. The engine hands over every call of one
/// <c>requires_action</c> (or one Responses turn) and submits the returned outputs once.
/// </summary>
internal interface IToolCallExecutor
{
    /// <summary>Gets the function tools to declare to the model.</summary>
    IReadOnlyList<FunctionToolSpec> Tools { get; }

    /// <summary>Runs the calls (concurrently, bounded) and returns one record per call, in completion order.</summary>
    Task<IReadOnlyList<ToolCallRecord>> ExecuteAsync(
        IReadOnlyList<ToolCallRequest> calls,
        ToolExecutionScope scope,
        CancellationToken cancellationToken);
}
