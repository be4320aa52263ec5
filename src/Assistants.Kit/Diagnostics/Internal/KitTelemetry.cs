using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Assistants.Kit.Diagnostics.Internal;

/// <summary>The kit's spans and instruments, in one place (see <see cref="AssistantsKitTelemetry"/>).</summary>
internal sealed class KitTelemetry : IDisposable
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string AgentId = "gen_ai.agent.id";
    public const string AgentName = "gen_ai.agent.name";
    public const string ConversationId = "gen_ai.conversation.id";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string CachedInputTokens = "gen_ai.usage.cache_read.input_tokens";
    public const string ReasoningTokens = "gen_ai.usage.reasoning.output_tokens";
    public const string ToolName = "gen_ai.tool.name";
    public const string ToolCallId = "gen_ai.tool.call.id";
    public const string ToolType = "gen_ai.tool.type";
    public const string ToolArguments = "gen_ai.tool.call.arguments";
    public const string ToolResult = "gen_ai.tool.call.result";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";
    public const string RunId = "openai.assistants.run.id";
    public const string ThreadId = "openai.assistants.thread.id";
    public const string RunStatusTag = "openai.assistants.run.status";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public KitTelemetry(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(AssistantsKitTelemetry.MeterName);
        }
        else
        {
            _meter = new Meter(AssistantsKitTelemetry.MeterName);
            _ownsMeter = true;
        }

        TokenUsage = _meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per run, by gen_ai.token.type (input, output).");
        OperationDuration = _meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of a run (invoke_agent), from the message to the final status.");
        Cost = _meter.CreateCounter<double>("assistants_kit.cost", "USD", "Cost of runs in US dollars (priced models only).");
        ToolCalls = _meter.CreateCounter<long>("assistants_kit.tool.calls", "{call}", "Tool calls executed, by gen_ai.tool.name and status.");
        ToolErrors = _meter.CreateCounter<long>("assistants_kit.tool.errors", "{call}", "Tool calls whose output is an error object.");
        ToolDuration = _meter.CreateHistogram<double>("assistants_kit.tool.duration", "s", "Duration of a tool call.");
        Polls = _meter.CreateHistogram<long>("assistants_kit.run.polls", "{request}", "Status checks per run.");
        Retries = _meter.CreateCounter<long>("assistants_kit.http.retries", "{retry}", "HTTP retries by the resilience layer.");
        Reconciliations = _meter.CreateCounter<long>("assistants_kit.reconciliations", "{write}", "Ambiguous writes reconciled, by outcome (adopted, resent).");
        BudgetRefusals = _meter.CreateCounter<long>("assistants_kit.budget.refusals", "{run}", "Runs refused by a budget before anything was sent.");
        Approvals = _meter.CreateCounter<long>("assistants_kit.approvals", "{decision}", "Approval decisions, by assistants_kit.approval.decision (approved, rejected, expired).");
        ApprovalWait = _meter.CreateHistogram<double>("assistants_kit.approval.wait", "s", "How long approvals waited for a decision.");
        ActiveRuns = _meter.CreateUpDownCounter<long>("assistants_kit.runs.active", "{run}", "Runs the kit is waiting for.");
    }

    public static ActivitySource Source { get; } = new(AssistantsKitTelemetry.ActivitySourceName);

    public Histogram<long> TokenUsage { get; }

    public Histogram<double> OperationDuration { get; }

    public Counter<double> Cost { get; }

    public Counter<long> ToolCalls { get; }

    public Counter<long> ToolErrors { get; }

    public Histogram<double> ToolDuration { get; }

    public Histogram<long> Polls { get; }

    public Counter<long> Retries { get; }

    public Counter<long> Reconciliations { get; }

    public Counter<long> BudgetRefusals { get; }

    public UpDownCounter<long> ActiveRuns { get; }

    public Counter<long> Approvals { get; }

    public Histogram<double> ApprovalWait { get; }

    /// <summary>The provider name for an endpoint: <c>azure.ai.openai</c> for Azure hosts, otherwise <c>openai</c>.</summary>
    public static string Provider(Uri endpoint) =>
        endpoint.Host.EndsWith(".azure.com", StringComparison.OrdinalIgnoreCase) || endpoint.Host.EndsWith(".azure-api.net", StringComparison.OrdinalIgnoreCase)
            ? "azure.ai.openai"
            : "openai";

    public static void RecordError(Activity? activity, Exception exception, string errorType)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(ErrorType, errorType);
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
