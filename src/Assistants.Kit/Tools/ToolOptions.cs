using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace Assistants.Kit;

/// <summary>How the kit executes tool calls and declares tools to the model.</summary>
/// <remarks>
/// Configure with <see cref="AssistantsKitToolsBuilderExtensions.ConfigureTools(IAssistantsKitBuilder, Action{ToolOptions})"/>.
/// The values are validated when the kit's tools are first used (or at host start): an invalid value fails with an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> whose message names the property and the value.
/// </remarks>
public sealed class ToolOptions
{
    /// <summary>Gets or sets how many calls of one tool round run at the same time.</summary>
    /// <value>The default is 8. Must be at least 1.</value>
    /// <remarks>Every call of a round starts at once up to this bound; the others wait for a free slot.</remarks>
    public int MaxConcurrentCalls { get; set; } = 8;

    /// <summary>Gets or sets how long one handler may run before its call ends with a <c>timeout</c> error output.</summary>
    /// <value>The default is 60 seconds. Must be positive, or <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</value>
    /// <remarks>
    /// The handler's <see cref="CancellationToken"/> is cancelled when the time is up. A handler that ignores its token is
    /// abandoned: the output is submitted without waiting for it, and a later failure of it is only logged.
    /// </remarks>
    public TimeSpan PerCallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets the maximum length, in characters, of one tool output.</summary>
    /// <value>The default is 32,768. Must be at least 1,024.</value>
    /// <remarks>
    /// A longer output is cut and ends with a marker such as
    /// <c>[output truncated: showing 32700 of 50000 characters]</c> (see <see cref="ToolOutputs.TruncationMarkerPrefix"/>),
    /// the whole being at most this long.
    /// </remarks>
    public int MaxOutputLength { get; set; } = 32_768;

    /// <summary>
    /// Gets or sets a value indicating whether a <c>handler_exception</c> output includes the exception's type and message.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the model only learns that the tool failed.</value>
    /// <remarks>
    /// Exception messages can contain connection strings, file paths or personal data, and everything in a tool output is
    /// sent to the model provider and may be repeated to the user. Turn this on only when the handlers' messages are safe
    /// to show. The exception is always logged in full.
    /// </remarks>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>Gets or sets a value indicating whether tools are declared in OpenAI strict mode (<c>"strict": true</c>).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    /// <remarks>
    /// When on, every parameter schema is transformed with <see cref="AIJsonSchemaTransformOptions"/> to what strict mode
    /// accepts: <c>additionalProperties: false</c> on every object, every property required, default values moved into
    /// the description, and each optional parameter of the tool made nullable. When the model sends <c>null</c> for an
    /// optional parameter, the parameter's default value is used.
    /// </remarks>
    public bool StrictSchemas { get; set; }

    /// <summary>Gets or sets the maximum number of tool rounds (<c>requires_action</c> turns) in one run.</summary>
    /// <value>The default is 10. Must be at least 1.</value>
    /// <remarks>A run that asks for one more round is cancelled and ends naming <see cref="ToolLoopStopReason.MaxToolRounds"/>.</remarks>
    public int MaxToolRounds { get; set; } = 10;

    /// <summary>
    /// Gets or sets how many times in one run the model may ask for the same tool with canonically identical arguments
    /// before the run is stopped.
    /// </summary>
    /// <value>The default is 3. Must be at least 2.</value>
    /// <remarks>
    /// Arguments are compared as JSON values: key order, whitespace and escaping do not matter. The request that reaches
    /// this count is not executed; the run is cancelled and ends naming <see cref="ToolLoopStopReason.RepeatedCall"/>
    /// and the tool.
    /// </remarks>
    public int MaxIdenticalCalls { get; set; } = 3;

    /// <summary>Gets or sets the JSON options used to bind arguments, serialize results and generate parameter schemas.</summary>
    /// <value>
    /// By default, <see cref="JsonSerializerDefaults.Web"/> (camelCase properties, case-insensitive reading, numbers
    /// readable from strings) with enums as strings, relaxed escaping (outputs are read by a model, not embedded in HTML)
    /// and the <see cref="AIJsonUtilities.DefaultOptions"/> type resolver. Must not be <see langword="null"/> and must have
    /// a <see cref="JsonSerializerOptions.TypeInfoResolver"/>.
    /// </value>
    /// <remarks>The options are made read-only when the tools are built.</remarks>
    public JsonSerializerOptions SerializerOptions { get; set; } = CreateDefaultSerializerOptions();

    private static JsonSerializerOptions CreateDefaultSerializerOptions() => new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = AIJsonUtilities.DefaultOptions.TypeInfoResolver,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Gets per-tool policies by tool name; they override the <see cref="AssistantToolAttribute"/> settings.</summary>
    public IDictionary<string, ToolPolicy> Policies { get; } = new Dictionary<string, ToolPolicy>(StringComparer.Ordinal);
}

/// <summary>How the kit treats one tool beyond executing it.</summary>
public sealed class ToolPolicy
{
    /// <summary>
    /// Gets or sets a value indicating whether running the tool twice with the same arguments is harmless (see
    /// <see cref="AssistantToolAttribute.Idempotent"/>). Default: <see langword="false"/>.
    /// </summary>
    public bool Idempotent { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every call needs a person's approval before it runs (see
    /// <see cref="AssistantRunner.ApproveAsync"/>). Default: <see langword="false"/>.
    /// </summary>
    public bool RequiresApproval { get; set; }

    /// <summary>
    /// Gets or sets a predicate over the call (its arguments and context) deciding whether it needs approval, e.g.
    /// refunds above $100. Consulted when <see cref="RequiresApproval"/> is <see langword="false"/>.
    /// </summary>
    public Func<ToolCallContext, bool>? RequiresApprovalWhen { get; set; }
}
