using System.ClientModel;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Definitions.Internal;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Runs.Internal;

/// <summary>What a run belongs to: conversation, thread, assistant, the user message that started it, its options.</summary>
internal sealed class RunContext
{
    public RunContext(string? conversationKey, string threadId, EnsuredAssistant? assistant, string? userMessageId, RunOptions? options, DateTimeOffset startedAt)
    {
        ConversationKey = conversationKey;
        ThreadId = threadId;
        Assistant = assistant;
        UserMessageId = userMessageId;
        Options = options;
        StartedAt = startedAt;
    }

    public string? ConversationKey { get; }

    public string ThreadId { get; }

    public EnsuredAssistant? Assistant { get; }

    public string? UserMessageId { get; }

    public RunOptions? Options { get; }

    public DateTimeOffset StartedAt { get; }

    public List<ToolCallRecord> ToolCalls { get; } = [];

    public TokenUsage? EarlierUsage { get; set; }

    public RunAccountingSession? Accounting { get; set; }

    public IReadOnlyList<RunStepRecord> Steps { get; set; } = [];

    public string? StopReason { get; set; }

    public int Attempts { get; set; } = 1;
}

/// <summary>
/// The run engine: resolves the conversation's thread through the store, adds the message, creates the run with the
/// run defaults, waits with the adaptive poller, executes tool calls, and maps every status to a defined outcome.
/// Talks to the wire only through <see cref="IProtocolBackend"/>.
/// </summary>
internal sealed class RunEngine
{
    public const string DefinitionVersionKey = "kit_def_version";

    private readonly IProtocolBackend _backend;
    private readonly IConversationStore _store;
    private readonly AssistantEnsurer _ensurer;
    private readonly AssistantsKitOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RunDurationTracker _durations;
    private readonly IServiceScopeFactory _scopes;
    private readonly IToolCallExecutor? _tools;
    private readonly IRunAccounting _accounting;

    public RunEngine(
        IProtocolBackend backend,
        IConversationStore store,
        AssistantEnsurer ensurer,
        IOptions<AssistantsKitOptions> options,
        TimeProvider timeProvider,
        ILogger<AssistantRunner> logger,
        RunDurationTracker durations,
        IServiceScopeFactory scopes,
        IRunAccounting accounting,
        IToolCallExecutor? tools = null)
    {
        _accounting = accounting;
        _backend = backend;
        _store = store;
        _ensurer = ensurer;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _durations = durations;
        _scopes = scopes;
        _tools = tools;
    }

    /// <summary>Gets or sets the random source of the poll jitter (tests make it deterministic).</summary>
    internal Func<double> Random { get; set; } = System.Random.Shared.NextDouble;

    internal AssistantsKitOptions Options => _options;

    internal AssistantEnsurer Ensurer => _ensurer;

    public Task<EnsuredAssistant> EnsureAssistantAsync(AssistantDefinition definition, CancellationToken cancellationToken) =>
        Translate(() => _ensurer.EnsureAsync(definition, cancellationToken));

    public Task<RunOperation> StartAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken) =>
        Translate(() => StartCoreAsync(conversationKey, message, runOptions, cancellationToken));

    public RunOperation Attach(string threadId, string runId, string? conversationKey)
    {
        var snapshot = new RunSnapshot(
            runId, threadId, string.Empty, RunStatus.Queued, [], null, null, null,
            _timeProvider.GetUtcNow(), null, null, new Dictionary<string, string>(), null);
        return new RunOperation(this, new RunContext(conversationKey, threadId, null, null, null, _timeProvider.GetUtcNow()), snapshot);
    }

    public Task<RunStatus> UpdateStatusAsync(RunOperation operation, CancellationToken cancellationToken) =>
        Translate(async () =>
        {
            operation.Snapshot = await _backend.GetRunAsync(operation.ThreadId, operation.Id, cancellationToken).ConfigureAwait(false);
            return operation.Snapshot.Status;
        });

    public Task CancelAsync(RunOperation operation, CancellationToken cancellationToken) =>
        Translate(async () =>
        {
            operation.Snapshot = await _backend.CancelRunAsync(operation.ThreadId, operation.Id, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<RunResult> WaitAsync(RunOperation operation, CancellationToken cancellationToken) =>
        Translate(() => WaitCoreAsync(operation, cancellationToken));

    private async Task<RunOperation> StartCoreAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        var definition = runOptions?.Assistant ?? _options.Assistant;

        // Budgets are checked before anything is sent: a refusal throws BudgetExceededException here.
        var model = NonEmpty(runOptions?.Model) ?? NonEmpty(definition.Model) ?? _options.DefaultModel;
        var session = await _accounting.BeginRunAsync(
            new RunAccountingContext(
                conversationKey,
                AssistantId: null,
                definition.Name,
                model,
                new Dictionary<string, string>(runOptions?.Tags ?? new Dictionary<string, string>(), StringComparer.Ordinal),
                runOptions?.MaxPromptTokens ?? _options.RunDefaults.MaxPromptTokens,
                runOptions?.MaxCompletionTokens ?? _options.RunDefaults.MaxCompletionTokens),
            cancellationToken).ConfigureAwait(false);
        try
        {
            var operation = await StartWithSessionAsync(conversationKey, message, runOptions, definition, session, cancellationToken).ConfigureAwait(false);
            return operation;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<RunOperation> StartWithSessionAsync(
        string conversationKey, string message, RunOptions? runOptions, AssistantDefinition definition, RunAccountingSession session, CancellationToken cancellationToken)
    {
        var assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
        var binding = await ResolveBindingAsync(conversationKey, cancellationToken).ConfigureAwait(false);

        var messageOperation = WriteReconciler.NewOperationId();
        AssistantMessage userMessage;
        try
        {
            userMessage = await _backend.AddUserMessageAsync(binding.ThreadId, message, messageOperation, cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            // The stored thread is gone on the server: start a new one and keep the old ID in the history.
            KitLog.ThreadMissing(_logger, binding.ThreadId, conversationKey);
            binding = await ReplaceThreadAsync(binding, cancellationToken).ConfigureAwait(false);
            userMessage = await _backend.AddUserMessageAsync(binding.ThreadId, message, messageOperation, cancellationToken).ConfigureAwait(false);
        }

        RunSnapshot run;
        try
        {
            run = await _backend.CreateRunAsync(BuildRunRequest(binding.ThreadId, assistant, runOptions), cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            // The assistant is gone on the server: ensure it again (re-created) and retry once.
            KitLog.AssistantMissing(_logger, assistant.Id, definition.Name);
            _ensurer.Invalidate(definition.Name);
            assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
            run = await _backend.CreateRunAsync(BuildRunRequest(binding.ThreadId, assistant, runOptions), cancellationToken).ConfigureAwait(false);
        }

        KitLog.RunCreated(_logger, run.Id, binding.ThreadId, conversationKey);
        await UpdateBindingAsync(conversationKey, b => b with
        {
            AssistantId = assistant.Id,
            DefinitionVersion = assistant.Version,
            ActiveRunId = run.Id,
            ActiveRunStatus = run.Status,
            MessageCount = b.MessageCount + 1,
        }, cancellationToken).ConfigureAwait(false);

        session.SetAssistant(assistant.Id);
        session.SetThread(binding.ThreadId, run.Id, run.Model);
        var context = new RunContext(conversationKey, binding.ThreadId, assistant, userMessage.Id, runOptions, _timeProvider.GetUtcNow())
        {
            Accounting = session,
        };
        return new RunOperation(this, context, run);
    }

    private RunRequest BuildRunRequest(string threadId, EnsuredAssistant assistant, RunOptions? runOptions)
    {
        var defaults = _options.RunDefaults;
        IReadOnlyList<FunctionToolSpec>? toolsOverride = null;
        if (runOptions?.ToolNames is { } names)
        {
            var byName = assistant.Spec.FunctionTools.ToDictionary(t => t.Name, StringComparer.Ordinal);
            var unknown = names.Where(n => !byName.ContainsKey(n)).ToArray();
            if (unknown.Length > 0)
            {
                throw new ArgumentException(
                    $"RunOptions.ToolNames names tools the assistant '{assistant.Spec.Definition.Name}' does not have: {string.Join(", ", unknown)}.",
                    nameof(runOptions));
            }

            toolsOverride = [.. names.Select(n => byName[n])];
        }

        var metadata = new Dictionary<string, string>(runOptions?.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [DefinitionVersionKey] = assistant.Version,
        };
        return new RunRequest(
            threadId,
            assistant.Id,
            WriteReconciler.NewOperationId(),
            assistant.Spec,
            runOptions?.MaxCompletionTokens ?? defaults.MaxCompletionTokens,
            runOptions?.MaxPromptTokens ?? defaults.MaxPromptTokens,
            runOptions?.TruncationLastMessages ?? defaults.TruncationLastMessages,
            runOptions?.ParallelToolCalls ?? defaults.ParallelToolCalls,
            runOptions?.AdditionalInstructions,
            runOptions?.Model,
            toolsOverride,
            metadata);
    }

    private async Task<ConversationBinding> ResolveBindingAsync(string conversationKey, CancellationToken cancellationToken)
    {
        var binding = await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
        if (binding is not null)
        {
            return binding;
        }

        var threadId = await _backend.CreateThreadAsync(new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        KitLog.ThreadCreated(_logger, threadId, conversationKey);
        var now = _timeProvider.GetUtcNow();
        try
        {
            return await _store.SaveAsync(
                new ConversationBinding { ConversationKey = conversationKey, Protocol = _backend.Protocol, ThreadId = threadId, CreatedAt = now },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ConversationConcurrencyException)
        {
            // Someone bound the key meanwhile: theirs wins (the thread created here stays empty).
            return await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The binding of '{conversationKey}' disappeared while it was being created.");
        }
    }

    private async Task<ConversationBinding> ReplaceThreadAsync(ConversationBinding binding, CancellationToken cancellationToken)
    {
        var threadId = await _backend.CreateThreadAsync(new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        KitLog.ThreadCreated(_logger, threadId, binding.ConversationKey);
        return await UpdateBindingAsync(binding.ConversationKey, b => b with
        {
            ThreadId = threadId,
            PreviousThreadIds = [.. b.PreviousThreadIds, b.ThreadId],
            ActiveRunId = null,
            ActiveRunStatus = null,
            PendingToolCalls = [],
            MessageCount = 0,
        }, cancellationToken).ConfigureAwait(false) ?? binding with { ThreadId = threadId };
    }

    /// <summary>Read, change, save; on a concurrent change, read again and re-apply (never a silent lost update).</summary>
    private async Task<ConversationBinding?> UpdateBindingAsync(string? conversationKey, Func<ConversationBinding, ConversationBinding> change, CancellationToken cancellationToken)
    {
        if (conversationKey is null)
        {
            return null;
        }

        for (var attempt = 1; ; attempt++)
        {
            var current = await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }

            try
            {
                return await _store.SaveAsync(change(current), cancellationToken).ConfigureAwait(false);
            }
            catch (ConversationConcurrencyException) when (attempt < 5)
            {
                // Re-read and re-apply.
            }
        }
    }

    private async Task<RunResult> WaitCoreAsync(RunOperation operation, CancellationToken cancellationToken)
    {
        var context = operation.Context;
        var polling = _options.Polling;
        var deadline = context.StartedAt + polling.Timeout;
        var segmentStart = _timeProvider.GetUtcNow();
        var afterToolOutputs = false;
        var attempt = 0;
        var polls = 0;
        var lastDelay = TimeSpan.Zero;
        var segmentOpen = true;

        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        try
        {
            while (true)
            {
                var run = operation.Snapshot;
                var assistantId = context.Assistant?.Id ?? run.AssistantId;

                if (segmentOpen && run.Status is not (RunStatus.Queued or RunStatus.InProgress) && attempt > 0)
                {
                    // The model's turn ended: remember how long it took (the detection lag is about half a delay).
                    var took = _timeProvider.GetUtcNow() - segmentStart - (lastDelay / 2);
                    _durations.Record(assistantId, afterToolOutputs, took);
                    segmentOpen = false;
                }

                if (run.Status == RunStatus.RequiresAction && context.StopReason is null
                    && await CheckBudgetsAsync(operation, run, cancellationToken).ConfigureAwait(false))
                {
                    await StopRunAsync(operation, "budget exceeded").ConfigureAwait(false);
                    continue;
                }

                if (run.Status == RunStatus.RequiresAction && context.StopReason is null)
                {
                    operation.Snapshot = await SubmitToolOutputsAsync(operation, run, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    segmentStart = _timeProvider.GetUtcNow();
                    afterToolOutputs = true;
                    segmentOpen = true;
                    attempt = 0;
                    continue;
                }

                if (run.Status.IsTerminal())
                {
                    if (run.Status == RunStatus.Failed && await RerunAsync(operation, run, cancellationToken).ConfigureAwait(false))
                    {
                        segmentStart = _timeProvider.GetUtcNow();
                        afterToolOutputs = false;
                        segmentOpen = true;
                        attempt = 0;
                        continue;
                    }

                    KitLog.RunEnded(_logger, run.Id, run.ThreadId, run.Status.ToWireString(), polls);
                    return await FinishAsync(operation, run, cancellationToken).ConfigureAwait(false);
                }

                var now = _timeProvider.GetUtcNow();
                if (now >= deadline)
                {
                    KitLog.RunTimedOut(_logger, run.Id, run.ThreadId, polling.Timeout);
                    await CancelQuietlyAsync(operation).ConfigureAwait(false);
                    await UpdateBindingAsync(context.ConversationKey, b => b with { ActiveRunStatus = RunStatus.Cancelling }, CancellationToken.None).ConfigureAwait(false);
                    throw new RunTimeoutException(run.ThreadId, run.Id, polling.Timeout, run.Status);
                }

                var remaining = deadline - now;
                if (run.ExpiresAt is { } expiresAt && expiresAt - now < remaining)
                {
                    remaining = expiresAt - now;
                }

                var estimate = polling.Adaptive
                    ? _durations.Estimate(assistantId, afterToolOutputs, polling.MinObservationsForAdaptation)
                    : null;
                lastDelay = PollDelayCalculator.NextDelay(
                    new PollDelayInput(attempt, now - segmentStart, run.PollHint, estimate, Random(), remaining),
                    polling);
                KitLog.RunPolled(_logger, run.Id, run.Status.ToWireString(), lastDelay);
                if (lastDelay > TimeSpan.Zero)
                {
                    await Task.Delay(lastDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }

                operation.Snapshot = await _backend.GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
                attempt++;
                polls++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_options.CancelRunOnCallerCancellation && !operation.HasCompleted)
            {
                KitLog.CancellingRunAfterCallerCancellation(_logger, operation.Id, operation.ThreadId);
                await CancelQuietlyAsync(operation).ConfigureAwait(false);
                await UpdateBindingAsync(context.ConversationKey, b => b with { ActiveRunStatus = RunStatus.Cancelling }, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            if (context.Accounting is { } session)
            {
                // Records what the run used if it never completed (failed, cancelled by the caller, timed out).
                await session.DisposeAsync().ConfigureAwait(false);
                context.Accounting = null;
            }
        }
    }

    /// <summary>Stops a run the kit decided to end (budget, loop guard): cancel on the server, then wait for <c>cancelled</c>.</summary>
    private async Task StopRunAsync(RunOperation operation, string reason)
    {
        operation.Context.StopReason = reason;
        KitLog.RunStoppedByKit(_logger, operation.Id, operation.ThreadId, reason);
        await CancelQuietlyAsync(operation).ConfigureAwait(false);
    }

    /// <summary>Lists the steps so far and reports them to accounting; true when a budget asks the run to stop.</summary>
    private async Task<bool> CheckBudgetsAsync(RunOperation operation, RunSnapshot run, CancellationToken cancellationToken)
    {
        if (operation.Context.Accounting is not { HasBudgets: true } session)
        {
            return false;
        }

        var steps = await _backend.GetRunStepsAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
        var stop = false;
        foreach (var step in steps)
        {
            stop |= await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false) == StepBudgetDecision.StopAtNextBoundary;
        }

        return stop || session.StopRequested;
    }

    private async Task<RunSnapshot> SubmitToolOutputsAsync(RunOperation operation, RunSnapshot run, IServiceProvider services, CancellationToken cancellationToken)
    {
        var context = operation.Context;
        var calls = run.RequiredToolCalls;
        KitLog.RunRequiresAction(_logger, run.Id, calls.Count);
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            ActiveRunId = run.Id,
            ActiveRunStatus = RunStatus.RequiresAction,
            PendingToolCalls = [.. calls.Select(c => new PendingToolCall(c.ToolCallId, c.Name, c.ArgumentsJson))],
        }, cancellationToken).ConfigureAwait(false);

        IReadOnlyList<ToolCallRecord> records;
        if (_tools is not null)
        {
            var scope = new ToolExecutionScope(context.ConversationKey ?? string.Empty, run.ThreadId, run.Id, services);
            records = await _tools.ExecuteAsync(calls, scope, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            records = [.. calls.Select(c => new ToolCallRecord(
                c.ToolCallId, c.Name, c.ArgumentsJson,
                new System.Text.Json.Nodes.JsonObject
                {
                    ["error"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "unknown_tool", ["message"] = $"No tool named '{c.Name}' is registered." },
                }.ToJsonString(),
                ToolCallStatus.UnknownTool, TimeSpan.Zero))];
        }

        context.ToolCalls.AddRange(records);
        var outputs = records.Select(r => new KeyValuePair<string, string>(r.ToolCallId, r.Output)).ToArray();
        return await _backend.SubmitToolOutputsAsync(run.ThreadId, run.Id, outputs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> RerunAsync(RunOperation operation, RunSnapshot run, CancellationToken cancellationToken)
    {
        var policy = _options.FailedRunRetry;
        var context = operation.Context;
        if (context.Assistant is null || context.Attempts > policy.MaxAttempts
            || run.LastError is not { } error || !policy.ErrorCodes.Contains(error.Code))
        {
            return false;
        }

        var delay = TimeSpan.FromTicks(policy.Delay.Ticks * (1L << Math.Min(context.Attempts - 1, 20)));
        KitLog.RunRerun(_logger, run.Id, run.ThreadId, error.Code, delay, context.Attempts, policy.MaxAttempts);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        context.EarlierUsage = Sum(context.EarlierUsage, run.Usage);
        context.Attempts++;
        operation.Snapshot = await _backend.CreateRunAsync(BuildRunRequest(run.ThreadId, context.Assistant, context.Options), cancellationToken).ConfigureAwait(false);
        await UpdateBindingAsync(context.ConversationKey, b => b with { ActiveRunId = operation.Snapshot.Id, ActiveRunStatus = operation.Snapshot.Status }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<RunResult> FinishAsync(RunOperation operation, RunSnapshot run, CancellationToken cancellationToken)
    {
        var context = operation.Context;
        var messages = run.Status == RunStatus.Failed
            ? []
            : await _backend.GetRunMessagesAsync(run.ThreadId, run.Id, context.UserMessageId, cancellationToken).ConfigureAwait(false);
        if (_options.RunStepLog)
        {
            context.Steps = await _backend.GetRunStepsAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
        }

        RunCostSummary? cost = null;
        if (context.Accounting is { } session)
        {
            foreach (var step in context.Steps)
            {
                await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false);
            }

            cost = await session.CompleteAsync(Sum(context.EarlierUsage, run.Usage) ?? TokenUsage.Zero, new ToolUsage(false, 0), cancellationToken).ConfigureAwait(false);
        }
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            ActiveRunId = null,
            ActiveRunStatus = run.Status,
            PendingToolCalls = [],
            MessageCount = b.MessageCount + messages.Count,
        }, cancellationToken).ConfigureAwait(false);

        if (run.Status == RunStatus.Failed)
        {
            throw new RunFailedException(run.LastError ?? new RunError("unknown", "The run failed without an error."), run.ThreadId, run.Id, context.Attempts);
        }

        var result = new RunResult(context.ConversationKey ?? string.Empty, run.ThreadId, run.Id, context.Assistant?.Id ?? run.AssistantId, run.Status, messages)
        {
            Usage = Sum(context.EarlierUsage, run.Usage),
            IncompleteReason = run.IncompleteReason,
            ToolCalls = [.. context.ToolCalls],
            DefinitionVersion = context.Assistant?.Version ?? run.Metadata.GetValueOrDefault(DefinitionVersionKey),
            Steps = context.Steps,
            Cost = cost,
            StopReason = context.StopReason,
        };
        operation.Value = result;
        return result;
    }

    private async Task CancelQuietlyAsync(RunOperation operation)
    {
        // The caller's token is already cancelled: use a fresh, bounded one.
        using var timeout = new CancellationTokenSource(_options.CancelRunTimeout, _timeProvider);
        try
        {
            operation.Snapshot = await _backend.CancelRunAsync(operation.ThreadId, operation.Id, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ClientResultException or HttpRequestException or OperationCanceledException or IOException)
        {
            KitLog.CancelRunFailed(_logger, ex, operation.Id, operation.ThreadId);
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static TokenUsage? Sum(TokenUsage? a, TokenUsage? b) => a is null ? b : b is null ? a : a.Value + b.Value;

    private async Task<T> Translate<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ClientResultException ex)
        {
            throw ServerErrors.Translate(ex, _options.ApiKey);
        }
        catch (HttpRequestException ex)
        {
            throw ServerErrors.Transport(ex, _options.ApiKey);
        }
    }
}
