using System.Text.Json;

namespace Assistants.Kit.Tools.Internal;

/// <summary>A tool call the model asked for, as the run engine hands it to the executor.</summary>
internal sealed record ToolCallRequest(string ToolCallId, string Name, string ArgumentsJson);

/// <summary>Where the calls run: the conversation, thread and run, and the per-run DI scope.</summary>
internal sealed record ToolExecutionScope(string ConversationKey, string ThreadId, string RunId, IServiceProvider Services)
{
    /// <summary>
    /// Gets the names of the tools enabled for this run when the run narrowed them (see
    /// <see cref="IToolCallExecutor.GetTools"/>), or <see langword="null"/> when every registered tool is enabled.
    /// A call to a registered tool outside this set ends as <see cref="ToolCallStatus.UnknownTool"/>.
    /// </summary>
    public IReadOnlySet<string>? EnabledTools { get; init; }

    /// <summary>Gets a value indicating whether arguments and results are recorded on the tool spans (opt-in content).</summary>
    public bool RecordContent { get; init; }
}

/// <summary>A function tool as declared to the model.</summary>
internal sealed record FunctionToolSpec(string Name, string? Description, JsonElement ParametersSchema, bool Strict);

/// <summary>
/// The seam between the run engine and tool execution. The engine hands over every call of one
/// <c>requires_action</c> (or one Responses turn) and submits the returned outputs once.
/// </summary>
internal interface IToolCallExecutor
{
    /// <summary>Gets the function tools to declare to the model, in registration order.</summary>
    IReadOnlyList<FunctionToolSpec> Tools { get; }

    /// <summary>Gets the declarations of the named tools, in the order given (duplicates removed), to narrow one run.</summary>
    /// <exception cref="ArgumentException">A name is not a registered tool; the message lists the unknown names.</exception>
    IReadOnlyList<FunctionToolSpec> GetTools(IEnumerable<string> names);

    /// <summary>Gets a tool's policy (idempotency…); the defaults for an unknown name.</summary>
    ToolPolicy GetPolicy(string name);

    /// <summary>Runs the calls (concurrently, bounded) and returns one record per call, in completion order.</summary>
    /// <exception cref="ArgumentException">Two calls share a <see cref="ToolCallRequest.ToolCallId"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the handlers' tokens are cancelled too.</exception>
    Task<IReadOnlyList<ToolCallRecord>> ExecuteAsync(
        IReadOnlyList<ToolCallRequest> calls,
        ToolExecutionScope scope,
        CancellationToken cancellationToken);
}
