namespace Assistants.Kit;

/// <summary>
/// The names under which the kit emits OpenTelemetry traces and metrics. Subscribe with
/// <c>tracing.AddSource(AssistantsKitTelemetry.ActivitySourceName)</c> and
/// <c>metrics.AddMeter(AssistantsKitTelemetry.MeterName)</c>.
/// </summary>
/// <remarks>
/// Spans and attributes follow the OpenTelemetry GenAI semantic conventions as published in semantic-conventions
/// <see cref="SemanticConventionsVersion"/> (status: Development; the conventions have since moved to their own
/// repository): <c>invoke_agent {agent}</c> (CLIENT) for a run, <c>execute_tool {tool}</c> (INTERNAL) for each tool
/// call, <c>create_agent {agent}</c> (CLIENT) when an assistant is created or updated, with HTTP client spans beneath.
/// Run and thread IDs are also recorded under <c>openai.assistants.*</c>.
/// </remarks>
public static class AssistantsKitTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>Assistants.Kit</c>.</summary>
    public const string ActivitySourceName = "Assistants.Kit";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>Assistants.Kit</c>.</summary>
    public const string MeterName = "Assistants.Kit";

    /// <summary>The semantic-conventions release whose GenAI conventions the kit implements: <c>1.41.0</c>.</summary>
    public const string SemanticConventionsVersion = "1.41.0";
}

/// <summary>Telemetry settings.</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether prompt, reply and tool argument/result content is recorded (as span
    /// events and attributes, and in Trace-level logs). Default: <see langword="false"/> — no content in telemetry or logs.
    /// </summary>
    public bool IncludeContent { get; set; }
}
