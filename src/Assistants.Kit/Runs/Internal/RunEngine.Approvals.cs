using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Runs.Internal;

/// <summary>Human-in-the-loop approval gates: deciding, continuing the run, listing.</summary>
internal sealed partial class RunEngine
{
    internal static string RejectionOutput(string toolName, string reason) =>
        new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["type"] = "rejected",
                ["message"] = $"A person rejected the call to '{toolName}': {reason}",
            },
        }.ToJsonString(RelaxedJson);

    /// <summary>
    /// Decides an approval, from any process: exactly one decision wins (the binding's optimistic concurrency); an
    /// approved call runs once, a rejected one gets a rejection output; when every call of the round has its output,
    /// the outputs are submitted once and the run continues to its end (polled).
    /// </summary>
    public async Task<RunResult> DecideAsync(string approvalId, bool approve, string? reason, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        var (key, callId) = ParseApproval(approvalId);
        var turn = await EnterConversationAsync(key, cancellationToken).ConfigureAwait(false);
        await using var turnDisposal = turn.ConfigureAwait(false);
        return await Translate(async () =>
        {
            var operation = await PrepareDecisionAsync(approvalId, key, callId, approve, reason, runOptions, cancellationToken).ConfigureAwait(false);
            return await WaitCoreAsync(operation, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Decides an approval like <see cref="DecideAsync"/>, then continues the run as a stream: the submit of the round's
    /// outputs opens the stream (on Responses, the run's next response is streamed), so the reply arrives as events.
    /// </summary>
    public async IAsyncEnumerable<RunStreamEvent> DecideStreamAsync(
        string approvalId, bool approve, string? reason, RunOptions? runOptions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (key, callId) = ParseApproval(approvalId);
        var turn = await EnterConversationAsync(key, cancellationToken).ConfigureAwait(false);
        await using var turnDisposal = turn.ConfigureAwait(false);
        var operation = await Translate(() => PrepareDecisionAsync(approvalId, key, callId, approve, reason, runOptions, cancellationToken)).ConfigureAwait(false);
        await foreach (var streamEvent in ContinueStreamAsync(operation, cancellationToken).ConfigureAwait(false))
        {
            yield return streamEvent;
        }
    }

    private (string Key, string CallId) ParseApproval(string approvalId) =>
        ToolApproval.ParseId(approvalId) is { } parsed && parsed.Protocol == _backend.Protocol
            ? (parsed.ConversationKey, parsed.ToolCallId)
            : throw new ApprovalNotFoundException(approvalId);

    /// <summary>
    /// Claims and carries out the decision (the tool runs once, or the rejection output is recorded), and returns the run
    /// at <c>requires_action</c> with a fresh context, ready to be continued polled or streamed.
    /// </summary>
    private async Task<RunOperation> PrepareDecisionAsync(
        string approvalId, string key, string callId, bool approve, string? reason, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        var binding = await _store.GetAsync(key, _backend.Protocol, cancellationToken).ConfigureAwait(false);
        var call = binding?.PendingToolCalls.FirstOrDefault(p => p.ToolCallId == callId);
        if (binding is null || call?.Approval is null)
        {
            throw new ApprovalNotFoundException(approvalId);
        }

        if (call.Approval == ApprovalState.Expired)
        {
            throw new ApprovalExpiredException(approvalId, binding.ActiveRunStatus ?? RunStatus.Expired);
        }

        if (call.Approval != ApprovalState.Pending)
        {
            throw new ApprovalAlreadyDecidedException(approvalId, call.Approval.Value);
        }

        if (binding.ActiveRunId is not { } runId)
        {
            throw new ApprovalNotFoundException(approvalId);
        }

        var run = await _backend.GetRunAsync(binding.ThreadId, runId, cancellationToken).ConfigureAwait(false);
        var approval = ToApproval(binding, call, runId);
        if (run.Status != RunStatus.RequiresAction || run.RequiredToolCalls.All(c => c.ToolCallId != callId)
            || (call.ApprovalExpiresAt is { } expires && _timeProvider.GetUtcNow() >= expires))
        {
            await ClaimAsync(binding, callId, ApprovalState.Expired, null, approvalId, cancellationToken).ConfigureAwait(false);
            if (run.Status.IsTerminal())
            {
                // A later decision is told how the run really ended.
                await UpdateBindingAsync(key, b => b.ActiveRunId == runId ? b with { ActiveRunStatus = run.Status } : b, cancellationToken).ConfigureAwait(false);
            }

            var expiredAfter = Waited(call);
            RecordDecision(ApprovalState.Expired, expiredAfter);
            await _observers.ApprovalDecidedAsync(approval with { State = ApprovalState.Expired }, expiredAfter, cancellationToken).ConfigureAwait(false);
            throw new ApprovalExpiredException(approvalId, run.Status);
        }

        // The rest of the run gets its own invoke_agent span (the run's first span ended at the pause). Starting it makes
        // it current here, so the decision's event lands on it; the caller's current span is untouched.
        var definition = runOptions?.Assistant ?? _options.Assistant;
        var telemetryStart = _timeProvider.GetTimestamp();
        var activity = StartInvokeAgent(definition);
        activity?.SetTag(KitTelemetry.ConversationId, binding.ThreadId);
        activity?.SetTag(KitTelemetry.ThreadId, binding.ThreadId);
        activity?.SetTag(KitTelemetry.RunId, runId);
        try
        {
            // Claim the decision first (exactly one approver wins), then act on it.
            var state = approve ? ApprovalState.Approved : ApprovalState.Rejected;
            binding = await ClaimAsync(binding, callId, state, null, approvalId, cancellationToken).ConfigureAwait(false);
            KitLog.ApprovalDecided(_logger, callId, key, state.ToString().ToLowerInvariant());
            string output;
            if (approve)
            {
                var scope = _scopes.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    var record = (await _tools.ExecuteAsync(
                        [new ToolCallRequest(call.ToolCallId, call.Name, call.ArgumentsJson)],
                        new ToolExecutionScope(key, binding.ThreadId, runId, scope.ServiceProvider) { RecordContent = _options.Telemetry.IncludeContent },
                        cancellationToken).ConfigureAwait(false))[0];
                    output = record.Output;
                    RecordToolMetrics([record]);
                }
            }
            else
            {
                output = RejectionOutput(call.Name, string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason);
            }

            await UpdateBindingAsync(key, b => b with
            {
                PendingToolCalls = [.. b.PendingToolCalls.Select(p => p.ToolCallId == callId ? p with { Output = output } : p)],
            }, cancellationToken).ConfigureAwait(false);
            var waited = Waited(call);
            RecordDecision(state, waited);
            await _observers.ApprovalDecidedAsync(approval with { State = state }, waited, cancellationToken).ConfigureAwait(false);

            // Continue the run: the round's outputs come from the journal; calls still pending keep it paused.
            var assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
            activity?.SetTag(KitTelemetry.AgentId, assistant.Id);
            activity?.SetTag(KitTelemetry.RequestModel, assistant.Spec.Model);
            var context = NewContext(key, binding.ThreadId, assistant, binding.Journal?.MessageId, runOptions);
            context.RunOperationId = binding.Journal?.RunOperationId;
            context.Activity = activity;
            context.TelemetryStart = telemetryStart;
            context.Accounting = await TryBeginAccountingAsync(key, assistant.Spec.Definition, cancellationToken).ConfigureAwait(false);
            context.Accounting?.SetAssistant(assistant.Id);
            context.Accounting?.SetThread(binding.ThreadId, runId);
            return new RunOperation(this, context, run);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
    }

    /// <summary>Lists pending approvals, optionally of one key and tool, and older than an age.</summary>
    public async Task<IReadOnlyList<ToolApproval>> GetPendingApprovalsAsync(string? conversationKey, string? toolName, TimeSpan? olderThan, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var approvals = new List<ToolApproval>();
        void Add(ConversationBinding binding)
        {
            // Past its expiry an approval can no longer be decided (deciding closes it as expired): not listed.
            foreach (var call in binding.PendingToolCalls.Where(p => p.Approval == ApprovalState.Pending && !(p.ApprovalExpiresAt <= now)))
            {
                if ((toolName is null || call.Name == toolName)
                    && (olderThan is null || (call.ApprovalRequestedAt is { } at && now - at >= olderThan)))
                {
                    approvals.Add(ToApproval(binding, call, binding.ActiveRunId ?? string.Empty));
                }
            }
        }

        if (conversationKey is not null)
        {
            if (await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false) is { } binding)
            {
                Add(binding);
            }
        }
        else
        {
            await foreach (var binding in _store.ListAsync(_backend.Protocol, cancellationToken).ConfigureAwait(false))
            {
                Add(binding);
            }
        }

        return [.. approvals.OrderBy(a => a.RequestedAt)];
    }

    private ToolApproval ToApproval(ConversationBinding binding, PendingToolCall call, string runId) => new(
        ToolApproval.CreateId(binding.ConversationKey, _backend.Protocol, call.ToolCallId),
        binding.ConversationKey,
        _backend.Protocol,
        binding.ThreadId,
        runId,
        call.ToolCallId,
        call.Name,
        call.ArgumentsJson,
        call.Approval ?? ApprovalState.Pending,
        call.ApprovalRequestedAt ?? _timeProvider.GetUtcNow(),
        call.ApprovalExpiresAt);

    private TimeSpan Waited(PendingToolCall call)
    {
        var waited = call.ApprovalRequestedAt is { } at ? _timeProvider.GetUtcNow() - at : TimeSpan.Zero;
        System.Diagnostics.Activity.Current?.AddEvent(new System.Diagnostics.ActivityEvent(
            "assistants_kit.approval.decided",
            tags: new System.Diagnostics.ActivityTagsCollection { [KitTelemetry.ToolName] = call.Name, [KitTelemetry.ToolCallId] = call.ToolCallId }));
        return waited;
    }

    private void RecordDecision(ApprovalState state, TimeSpan waited)
    {
        var decision = new KeyValuePair<string, object?>("assistants_kit.approval.decision", state.ToString().ToLowerInvariant());
        _telemetry.Approvals.Add(1, decision);
        _telemetry.ApprovalWait.Record(waited.TotalSeconds, decision);
    }

    /// <summary>Records a decision with the binding's version check: a concurrent decision makes this one fail.</summary>
    private async Task<ConversationBinding> ClaimAsync(ConversationBinding binding, string callId, ApprovalState state, string? output, string approvalId, CancellationToken cancellationToken)
    {
        try
        {
            var fence = _fences.TryGetValue(binding.ConversationKey, out var token) ? token : binding.FencingToken;
            return await _store.SaveAsync(binding with
            {
                FencingToken = fence,
                PendingToolCalls = [.. binding.PendingToolCalls.Select(p => p.ToolCallId == callId ? p with { Approval = state, Output = output ?? p.Output } : p)],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConversationConcurrencyException)
        {
            var current = await _store.GetAsync(binding.ConversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
            var decided = current?.PendingToolCalls.FirstOrDefault(p => p.ToolCallId == callId)?.Approval;
            if (decided is { } d && d != ApprovalState.Pending)
            {
                throw new ApprovalAlreadyDecidedException(approvalId, d);
            }

            return await ClaimAsync(current!, callId, state, output, approvalId, cancellationToken).ConfigureAwait(false);
        }
    }
}
