using System.ClientModel;
using System.Diagnostics;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Conversations.Internal;
using Assistants.Kit.Definitions.Internal;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Runs.Internal;

/// <summary>
/// The run engine: resolves the conversation's thread through the store, adds the message, creates the run with the
/// run defaults, waits (adaptive polling or streaming), executes tool calls, and maps every status to a defined
/// outcome. Talks to the wire only through <see cref="IProtocolBackend"/> (and, for streams, the protocol's client).
/// </summary>
internal sealed partial class RunEngine
{
    public const string DefinitionVersionKey = "kit_def_version";

    /// <summary>The error type of the output a tool call gets when its run ended before the call's real output was sent.</summary>
    internal const string RunStoppedErrorType = "run_stopped";

    /// <summary>The precision of <c>expires_at</c> on the wire (Unix seconds).</summary>
    private static readonly TimeSpan ExpiresAtPrecision = TimeSpan.FromSeconds(1);

    /// <summary>The error type of the output a gated call gets when its approval expired before anyone decided.</summary>
    internal const string ApprovalExpiredErrorType = "approval_expired";

    private readonly IProtocolBackend _backend;
    private readonly IConversationStore _store;
    private readonly AssistantEnsurer _ensurer;
    private readonly AssistantsKitOptions _options;
    private readonly ToolOptions _toolOptions;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RunDurationTracker _durations;
    private readonly IServiceScopeFactory _scopes;
    private readonly IToolCallExecutor _tools;
    private readonly IRunAccounting _accounting;
    private readonly OpenAIClientProvider _clients;
    private readonly KitTelemetry _telemetry;
    private readonly ConversationGate _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _fences = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IConversationLease> _leases = new(StringComparer.Ordinal);
    private readonly ConversationObservers _observers;
    private readonly IServiceProvider _services;

    public RunEngine(
        IProtocolBackend backend,
        IConversationStore store,
        AssistantEnsurer ensurer,
        IOptions<AssistantsKitOptions> options,
        IOptions<ToolOptions> toolOptions,
        TimeProvider timeProvider,
        ILogger<AssistantRunner> logger,
        RunDurationTracker durations,
        IServiceScopeFactory scopes,
        IRunAccounting accounting,
        IToolCallExecutor tools,
        OpenAIClientProvider clients,
        KitTelemetry telemetry,
        ConversationObservers observers,
        IServiceProvider services)
    {
        _services = services;
        _observers = observers;
        _telemetry = telemetry;
        _backend = backend;
        _store = store;
        _ensurer = ensurer;
        _options = options.Value;
        _toolOptions = toolOptions.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _durations = durations;
        _scopes = scopes;
        _accounting = accounting;
        _tools = tools;
        _clients = clients;
    }

    /// <summary>Gets or sets the random source of the poll jitter (tests make it deterministic).</summary>
    internal Func<double> Random { get; set; } = System.Random.Shared.NextDouble;

    internal AssistantsKitOptions Options => _options;

    internal ConversationGate Gate => _gate;

    internal AssistantsProtocol Protocol => _backend.Protocol;

    /// <summary>
    /// Waits for the conversation key's turn (runs on one key never overlap in this process). With
    /// <see cref="ConcurrencyPolicy.CancelActive"/>, the key's active run (from the store) is cancelled on the server first.
    /// </summary>
    public async Task<IAsyncDisposable> EnterConversationAsync(string conversationKey, CancellationToken cancellationToken)
    {
        var holder = await EnterGateAsync(conversationKey, cancellationToken).ConfigureAwait(false);
        if (_services.GetService<IConversationLeaseProvider>() is not { } leases)
        {
            return new Turn(this, conversationKey, holder, null);
        }

        try
        {
            // Across instances: the lease, whose fencing token is stamped on every store write for this key.
            var lease = await leases.AcquireAsync(conversationKey, cancellationToken).ConfigureAwait(false);
            _fences[conversationKey] = lease.FencingToken;
            _leases[conversationKey] = lease;
            return new Turn(this, conversationKey, holder, lease);
        }
        catch
        {
            holder.Dispose();
            throw;
        }
    }

    private sealed class Turn(RunEngine engine, string key, IDisposable holder, IConversationLease? lease) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            engine._fences.TryRemove(key, out _);
            engine._leases.TryRemove(key, out _);
            try
            {
                if (lease is not null)
                {
                    await lease.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                holder.Dispose();
            }
        }
    }

    /// <summary>
    /// Before a server mutation: a holder whose lease was lost (a long pause, a partition) must not act on the server
    /// any more — another instance may hold the conversation now.
    /// </summary>
    private void ThrowIfLeaseLost(string? conversationKey)
    {
        if (conversationKey is not null && _leases.TryGetValue(conversationKey, out var lease) && lease.IsLost)
        {
            throw new ConversationFencedException(conversationKey, lease.FencingToken, storedFencingToken: -1);
        }
    }

    private async Task<IDisposable> EnterGateAsync(string conversationKey, CancellationToken cancellationToken)
    {
        if (_options.Concurrency == ConcurrencyPolicy.CancelActive)
        {
            var binding = await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
            if (binding?.ActiveRunId is { } runId && !(binding.ActiveRunStatus?.IsTerminal() ?? false))
            {
                KitLog.CancellingActiveRun(_logger, runId, binding.ThreadId, conversationKey);
                await CancelQuietlyAsync(Attach(binding.ThreadId, runId, conversationKey)).ConfigureAwait(false);
            }
        }

        return await _gate.EnterAsync(conversationKey, cancellationToken).ConfigureAwait(false);
    }

    public Task<EnsuredAssistant> EnsureAssistantAsync(AssistantDefinition definition, CancellationToken cancellationToken) =>
        Translate(() => _ensurer.EnsureAsync(definition, cancellationToken));

    public Task<RunOperation> StartAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken) =>
        Translate(async () =>
        {
            var context = await PrepareAsync(conversationKey, message, runOptions, cancellationToken).ConfigureAwait(false);
            try
            {
                var run = await CreateRunAsync(context, cancellationToken).ConfigureAwait(false);
                return new RunOperation(this, context, run);
            }
            catch (Exception ex)
            {
                context.ErrorType = ErrorTypeOf(ex);
                await DisposeAccountingAsync(context).ConfigureAwait(false);
                throw;
            }
        });

    public RunOperation Attach(string threadId, string runId, string? conversationKey)
    {
        var snapshot = new RunSnapshot(
            runId, threadId, string.Empty, RunStatus.Queued, [], null, null, null,
            _timeProvider.GetUtcNow(), null, null, new Dictionary<string, string>(), null);
        return new RunOperation(this, NewContext(conversationKey, threadId, null, null, null), snapshot);
    }

    public Task<RunStatus> UpdateStatusAsync(RunOperation operation, CancellationToken cancellationToken) =>
        Translate(async () =>
        {
            var previous = operation.Snapshot;
            var polled = await _backend.GetRunAsync(operation.ThreadId, operation.Id, cancellationToken).ConfigureAwait(false);
            operation.Snapshot = polled.Id == previous.Id && previous.ProtocolState is { } state ? polled with { ProtocolState = state } : polled;
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

    private RunContext NewContext(string? conversationKey, string threadId, EnsuredAssistant? assistant, string? userMessageId, RunOptions? runOptions) =>
        new(conversationKey, threadId, assistant, userMessageId, runOptions, _timeProvider.GetUtcNow())
        {
            LoopGuard = new ToolLoopGuard(_toolOptions),
        };

    /// <summary>Starts a run's <c>invoke_agent</c> span (current from here on) with the tags known before the server answers.</summary>
    private Activity? StartInvokeAgent(AssistantDefinition definition)
    {
        var activity = KitTelemetry.Source.StartActivity("invoke_agent " + definition.Name, ActivityKind.Client);
        activity?.SetTag(KitTelemetry.OperationName, "invoke_agent");
        activity?.SetTag(KitTelemetry.ProviderName, KitTelemetry.Provider(_clients.Endpoint));
        activity?.SetTag(KitTelemetry.AgentName, definition.Name);
        return activity;
    }

    /// <summary>Budget check (nothing sent on refusal), assistant, thread, user message: everything before the run.</summary>
    private async Task<RunContext> PrepareAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken, RunJournal? resume = null)
    {
        if (_backend.Protocol == AssistantsProtocol.Responses && runOptions?.TruncationLastMessages is { } last)
        {
            throw new ArgumentException(
                $"RunOptions.TruncationLastMessages ({last}) has no equivalent in the Responses protocol (a response sees the whole conversation); remove it.",
                nameof(runOptions));
        }

        var definition = runOptions?.Assistant ?? _options.Assistant;
        var model = NonEmpty(runOptions?.Model) ?? NonEmpty(definition.Model) ?? _options.DefaultModel;
        var telemetryStart = _timeProvider.GetTimestamp();
        var activity = StartInvokeAgent(definition);
        activity?.SetTag(KitTelemetry.RequestModel, model);
        if (_options.Telemetry.IncludeContent)
        {
            activity?.AddEvent(new ActivityEvent("gen_ai.user.message", tags: new ActivityTagsCollection { ["gen_ai.event.content"] = message }));
            KitLog.UserMessageContent(_logger, conversationKey, message);
        }

        RunAccountingSession session;
        try
        {
            session = await _accounting.BeginRunAsync(
            new RunAccountingContext(
                conversationKey,
                AssistantId: null,
                definition.Name,
                model,
                new Dictionary<string, string>(runOptions?.Tags ?? new Dictionary<string, string>(), StringComparer.Ordinal),
                runOptions?.MaxPromptTokens ?? _options.RunDefaults.MaxPromptTokens,
                runOptions?.MaxCompletionTokens ?? _options.RunDefaults.MaxCompletionTokens),
            cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetExceededException ex)
        {
            _telemetry.BudgetRefusals.Add(1, new KeyValuePair<string, object?>("assistants_kit.budget.name", ex.BudgetName));
            KitTelemetry.RecordError(activity, ex, "budget_exceeded");
            activity?.Dispose();
            throw;
        }
        catch (Exception ex)
        {
            KitTelemetry.RecordError(activity, ex, ex.GetType().Name);
            activity?.Dispose();
            throw;
        }

        try
        {
            var assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
            activity?.SetTag(KitTelemetry.AgentId, assistant.Id);
            ValidateToolNames(assistant, runOptions);
            var binding = await ResolveBindingAsync(conversationKey, cancellationToken).ConfigureAwait(false);
            if (resume is null && binding.PendingToolCalls.Where(p => p.Approval is null).ToList() is { Count: > 0 } open)
            {
                // An earlier run of the key ended between its tool calls and their outputs (the process stopped, the wait
                // was given up): on Responses those calls get their journaled output, or an error output, before any new
                // input. (Decided approvals kept for late approvers are closed already.)
                await _backend.AnswerToolCallsAsync(
                    binding.ThreadId,
                    [.. open.Select(p => new KeyValuePair<string, string>(p.ToolCallId, p.Output
                        ?? ToolOutput.Error(RunStoppedErrorType, "The run ended before this tool call's output was sent.", _toolOptions.MaxOutputLength)))],
                    cancellationToken).ConfigureAwait(false);
            }

            var messageOperation = resume?.MessageOperationId ?? WriteReconciler.NewOperationId();
            string userMessageId;
            if (resume is { Phase: not RunJournalPhase.AddingMessage, MessageId: { } journaledMessage })
            {
                userMessageId = journaledMessage; // added before the crash
            }
            else
            {
                // Journal first: a crash from here on is resumed by finding the message by its operation ID.
                await UpdateBindingAsync(conversationKey, b => b with
                {
                    Journal = new RunJournal
                    {
                        Phase = RunJournalPhase.AddingMessage,
                        MessageText = message,
                        MessageOperationId = messageOperation,
                        AssistantName = definition.Name,
                        StartedAt = resume?.StartedAt ?? _timeProvider.GetUtcNow(),
                    },
                }, cancellationToken).ConfigureAwait(false);
                CrashIf("adding-message");
                ThrowIfLeaseLost(conversationKey);
                var found = resume is null ? null : await _backend.FindUserMessageAsync(binding.ThreadId, messageOperation, message, cancellationToken).ConfigureAwait(false);
                AssistantMessage userMessage;
                try
                {
                    userMessage = found ?? await _backend.AddUserMessageAsync(binding.ThreadId, message, messageOperation, Attachments(runOptions), cancellationToken).ConfigureAwait(false);
                }
                catch (ClientResultException ex) when (ex.Status == 404)
                {
                    // The stored thread is gone on the server: start a new one and keep the old ID in the history.
                    KitLog.ThreadMissing(_logger, binding.ThreadId, conversationKey);
                    binding = await ReplaceThreadAsync(binding, cancellationToken).ConfigureAwait(false);
                    userMessage = await _backend.AddUserMessageAsync(binding.ThreadId, message, messageOperation, Attachments(runOptions), cancellationToken).ConfigureAwait(false);
                }

                userMessageId = userMessage.Id;
                await UpdateBindingAsync(conversationKey, b => b with
                {
                    Journal = b.Journal is { } j ? j with { Phase = RunJournalPhase.CreatingRun, MessageId = userMessageId } : null,
                }, cancellationToken).ConfigureAwait(false);
                CrashIf("message-added");
            }

            session.SetAssistant(assistant.Id);
            activity?.SetTag(KitTelemetry.ConversationId, binding.ThreadId);
            activity?.SetTag(KitTelemetry.ThreadId, binding.ThreadId);
            var context = NewContext(conversationKey, binding.ThreadId, assistant, userMessageId, runOptions);
            context.Resuming = resume is not null;
            context.RunOperationId = resume?.RunOperationId;
            context.Accounting = session;
            context.Activity = activity;
            context.TelemetryStart = telemetryStart;
            context.CountedActive = true;
            _telemetry.ActiveRuns.Add(1);
            return context;
        }
        catch (Exception ex)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            KitTelemetry.RecordError(activity, ex, ErrorTypeOf(ex));
            activity?.Dispose();
            throw;
        }
    }

    /// <summary>Creates the run (reconciled); when the assistant vanished on the server, ensures it again and retries once.</summary>
    private async Task<RunSnapshot> CreateRunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var assistant = context.Assistant!;
        RunSnapshot run;
        try
        {
            if (context.Resuming && context.RunOperationId is { } journaledOperation
                && await _backend.FindRunByOperationAsync(context.ThreadId, journaledOperation, cancellationToken).ConfigureAwait(false) is { } landed)
            {
                // Created before the crash: adopt it, never start it twice.
                await OnRunCreatedAsync(context, assistant, landed, cancellationToken).ConfigureAwait(false);
                return landed;
            }

            var request = BuildRunRequest(context, assistant);
            await UpdateBindingAsync(context.ConversationKey, b => b with
            {
                Journal = b.Journal is { } j ? j with { Phase = RunJournalPhase.CreatingRun, RunOperationId = request.OperationId } : null,
            }, cancellationToken).ConfigureAwait(false);
            CrashIf("creating-run");
            ThrowIfLeaseLost(context.ConversationKey);
            run = await _backend.CreateRunAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            var definition = assistant.Spec.Definition;
            KitLog.AssistantMissing(_logger, assistant.Id, definition.Name);
            _ensurer.Invalidate(definition.Name);
            assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
            context.Assistant = assistant;
            run = await _backend.CreateRunAsync(BuildRunRequest(context, assistant), cancellationToken).ConfigureAwait(false);
        }

        await OnRunCreatedAsync(context, assistant, run, cancellationToken).ConfigureAwait(false);
        return run;
    }

    private async Task OnRunCreatedAsync(RunContext context, EnsuredAssistant assistant, RunSnapshot run, CancellationToken cancellationToken)
    {
        KitLog.RunCreated(_logger, run.Id, run.ThreadId, context.ConversationKey ?? string.Empty);
        context.Activity?.SetTag(KitTelemetry.RunId, run.Id);
        context.Activity?.SetTag(KitTelemetry.AgentId, assistant.Id);
        context.Accounting?.SetAssistant(assistant.Id);
        context.Accounting?.SetThread(run.ThreadId, run.Id, run.Model);
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            AssistantId = assistant.Id,
            DefinitionVersion = assistant.Version,
            ActiveRunId = run.Id,
            ActiveRunStatus = run.Status,
            MessageCount = b.MessageCount + (context.Attempts == 1 && !context.Resuming ? 1 : 0),
            Journal = b.Journal is { } j ? j with { Phase = RunJournalPhase.RunActive, RunId = run.Id } : null,
        }, cancellationToken).ConfigureAwait(false);
        CrashIf("run-created");
        context.LastRun = run;
        if (context.ConversationKey is { } key)
        {
            await _observers.RunStartedAsync(new ConversationRunEvent(key, _backend.Protocol, run.ThreadId, run.Id, assistant.Id, run.Status), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void ValidateToolNames(EnsuredAssistant assistant, RunOptions? runOptions)
    {
        if (runOptions?.ToolNames is not { } names)
        {
            return;
        }

        var available = assistant.Spec.FunctionTools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = names.Where(n => !available.Contains(n)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException(
                $"RunOptions.ToolNames names tools the assistant '{assistant.Spec.Definition.Name}' does not have: {string.Join(", ", unknown)}.",
                nameof(runOptions));
        }
    }

    private RunRequest BuildRunRequest(RunContext context, EnsuredAssistant assistant)
    {
        var runOptions = context.Options;
        var defaults = _options.RunDefaults;
        IReadOnlyList<FunctionToolSpec>? toolsOverride = runOptions?.ToolNames is { } names
            ? [.. assistant.Spec.FunctionTools.Where(t => names.Contains(t.Name))]
            : null;
        var metadata = new Dictionary<string, string>(runOptions?.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [DefinitionVersionKey] = assistant.Version,
        };
        context.RunOperationId ??= WriteReconciler.NewOperationId();
        return new RunRequest(
            context.ThreadId,
            assistant.Id,
            context.RunOperationId,
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
        try
        {
            var saved = await _store.SaveAsync(
                new ConversationBinding
                {
                    ConversationKey = conversationKey,
                    Protocol = _backend.Protocol,
                    ThreadId = threadId,
                    CreatedAt = _timeProvider.GetUtcNow(),
                    FencingToken = _fences.TryGetValue(conversationKey, out var fence) ? fence : 0,
                },
                cancellationToken).ConfigureAwait(false);
            await _observers.ThreadCreatedAsync(new ConversationThreadEvent(conversationKey, _backend.Protocol, threadId, null, "created"), cancellationToken).ConfigureAwait(false);
            return saved;
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
        await _observers.ThreadRolledOverAsync(new ConversationThreadEvent(binding.ConversationKey, _backend.Protocol, threadId, binding.ThreadId, "not_found"), cancellationToken).ConfigureAwait(false);
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

            var changed = change(current);
            if (_fences.TryGetValue(conversationKey, out var fence))
            {
                changed = changed with { FencingToken = fence };
            }

            try
            {
                return await _store.SaveAsync(changed, cancellationToken).ConfigureAwait(false);
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
        var previousActivity = Activity.Current;
        if (context.Activity is not null)
        {
            Activity.Current = context.Activity;
        }

        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        try
        {
            while (true)
            {
                var run = await PollUntilSettledAsync(operation, cancellationToken).ConfigureAwait(false);
                if (run.Status == RunStatus.RequiresAction)
                {
                    var round = await ExecuteToolRoundAsync(operation, run, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    if (round is null && context.AwaitingApprovals.Count > 0)
                    {
                        var paused = AwaitingResult(context, run);
                        operation.Value = paused;
                        return paused;
                    }

                    if (round is not null)
                    {
                        var next = await SubmitOrSettleAsync(run, round, cancellationToken).ConfigureAwait(false);
                        operation.Snapshot = next;
                        if (_backend.ToolOutputsContinueInNewRun && next.Id != run.Id)
                        {
                            CloseTurn(context, run);
                        }

                        await UpdateBindingAsync(context.ConversationKey, b => b with
                        {
                            ActiveRunId = next.Id,
                            ActiveRunStatus = next.Status,

                            // Assistants: decided approvals stay known until the next round replaces them (a late approver
                            // hears "decided"). Responses: the calls stay pending until the run ends (the response carrying
                            // their outputs may fail, leaving them out of the conversation).
                            PendingToolCalls = _backend.ToolOutputsContinueInNewRun
                                ? b.PendingToolCalls
                                : [.. b.PendingToolCalls.Where(p => p.Approval is not null and not ApprovalState.Pending)],
                            Journal = b.Journal is { } j ? j with { RunId = next.Id } : null,
                        }, cancellationToken).ConfigureAwait(false);
                        CrashIf("outputs-submitted");
                    }

                    continue;
                }

                if (run.Status == RunStatus.Failed && await RerunAsync(operation, run, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                var messages = run.Status == RunStatus.Failed
                    ? []
                    : run.Messages is { } own
                        ? [.. context.EarlierTurnMessages, .. own]
                        : await _backend.GetRunMessagesAsync(run.ThreadId, run.Id, context.UserMessageId, cancellationToken).ConfigureAwait(false);
                var steps = _backend.ToolOutputsContinueInNewRun
                    ? [.. context.EarlierTurnSteps, run.AsStep()]
                    : _options.RunStepLog
                        ? await _backend.GetRunStepsAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false)
                        : context.Steps;
                var result = await CompleteRunAsync(context, run, messages, steps, cancellationToken).ConfigureAwait(false);
                operation.Value = result;
                return result ?? throw Failed(context, run);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.ErrorType = "cancelled";
            await OnCallerCancelledAsync(operation).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (MarkError(context, ex))
        {
            throw; // never reached: the filter only records the error type
        }
        finally
        {
            context.LastRun = operation.Snapshot;
            await DisposeAccountingAsync(context).ConfigureAwait(false);
            Activity.Current = previousActivity;
        }
    }

    private static bool MarkError(RunContext context, Exception exception)
    {
        context.ErrorType ??= ErrorTypeOf(exception);
        return false;
    }

    internal static string ErrorTypeOf(Exception exception) => exception switch
    {
        RunFailedException failed => failed.Code,
        RunTimeoutException => "timeout",
        BudgetExceededException => "budget_exceeded",
        AssistantsServerException server => server.Status > 0 ? server.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "transport",
        ClientResultException cre => cre.Status > 0 ? cre.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "transport",
        OperationCanceledException => "cancelled",
        _ => exception.GetType().FullName ?? "_OTHER",
    };

    /// <summary>
    /// Polls until the run leaves <c>queued</c>/<c>in_progress</c>/<c>cancelling</c> (or is already settled), with the
    /// adaptive schedule, the deadline and <c>expires_at</c> awareness. Reports every status seen to <paramref name="onStatus"/>.
    /// </summary>
    private async Task<RunSnapshot> PollUntilSettledAsync(RunOperation operation, CancellationToken cancellationToken, Action<RunSnapshot>? onStatus = null)
    {
        var context = operation.Context;
        var polling = _options.Polling;
        var deadline = context.StartedAt + polling.Timeout;
        var segmentStart = _timeProvider.GetUtcNow();
        var afterToolOutputs = context.ToolCalls.Count > 0;
        var attempt = 0;
        var lastDelay = TimeSpan.Zero;
        while (true)
        {
            var run = operation.Snapshot;
            var assistantId = context.Assistant?.Id ?? run.AssistantId;
            var settled = run.Status is RunStatus.RequiresAction || run.Status.IsTerminal();
            if (settled && (run.Status != RunStatus.RequiresAction || context.StopReason is null))
            {
                if (attempt > 0)
                {
                    // The model's turn ended: remember how long it took (the detection lag is about half a delay).
                    _durations.Record(assistantId, afterToolOutputs, _timeProvider.GetUtcNow() - segmentStart - (lastDelay / 2));
                }

                if (run.Status.IsTerminal())
                {
                    KitLog.RunEnded(_logger, run.Id, run.ThreadId, run.Status.ToWireString(), attempt);
                }

                return run;
            }

            var now = _timeProvider.GetUtcNow();
            if (now >= deadline)
            {
                KitLog.RunTimedOut(_logger, run.Id, run.ThreadId, polling.Timeout);
                await CancelQuietlyAsync(operation).ConfigureAwait(false);
                await UpdateBindingAsync(context.ConversationKey, b => b with { ActiveRunStatus = RunStatus.Cancelling }, CancellationToken.None).ConfigureAwait(false);
                throw new RunTimeoutException(run.ThreadId, run.Id, polling.Timeout, run.Status);
            }

            // expires_at is stated in whole seconds: the server expires the run within the second after it. A wait never
            // runs past that second (the expiry is seen promptly); once it has passed, the normal schedule goes on (never
            // a zero delay, which would poll back to back while the server has not yet said expired).
            var remaining = deadline - now;
            if (run.ExpiresAt is { } expiresAt && expiresAt + ExpiresAtPrecision is var expiry && expiry > now && expiry - now < remaining)
            {
                remaining = expiry - now;
            }

            var estimate = polling.Adaptive ? _durations.Estimate(assistantId, afterToolOutputs, polling.MinObservationsForAdaptation) : null;
            lastDelay = PollDelayCalculator.NextDelay(new PollDelayInput(attempt, now - segmentStart, run.PollHint, estimate, Random(), remaining), polling);
            KitLog.RunPolled(_logger, run.Id, run.Status.ToWireString(), lastDelay);
            if (lastDelay > TimeSpan.Zero)
            {
                await Task.Delay(lastDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            var polled = await _backend.GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);

            // The state the backend made when it created the run (Responses: the settings it sent) beats what a read shows.
            operation.Snapshot = polled.Id == run.Id && run.ProtocolState is { } state ? polled with { ProtocolState = state } : polled;
            attempt++;
            context.Polls++;
            onStatus?.Invoke(operation.Snapshot);
        }
    }

    /// <summary>
    /// One <c>requires_action</c> round: budget and loop-guard checks (a stop cancels the run and returns null), then
    /// every call executed (concurrently, safely) and recorded. The caller submits the outputs once.
    /// </summary>
    private async Task<IReadOnlyList<ToolCallRecord>?> ExecuteToolRoundAsync(RunOperation operation, RunSnapshot run, IServiceProvider services, CancellationToken cancellationToken)
    {
        var context = operation.Context;
        var calls = run.RequiredToolCalls;
        KitLog.RunRequiresAction(_logger, run.Id, calls.Count);

        if (context.StopReason is null && await BudgetSaysStopAsync(context, run, cancellationToken).ConfigureAwait(false))
        {
            await StopRunAsync(operation, "budget exceeded").ConfigureAwait(false);
            return null;
        }

        var verdict = context.LoopGuard!.Observe(calls);
        if (verdict.ShouldStop)
        {
            context.ToolLoopStop = verdict.StopReason;
            await StopRunAsync(operation, verdict.Message ?? "tool loop guard").ConfigureAwait(false);
            return null;
        }

        // The binding's pending calls for this run: outputs journaled before a crash (submitted as they are, never
        // computed again), calls interrupted while running, and approvals requested or decided.
        var stored = context.ConversationKey is { } key
            ? await _store.GetAsync(key, _backend.Protocol, cancellationToken).ConfigureAwait(false)
            : null;
        var journaled = stored is not null && stored.ActiveRunId == run.Id
            ? stored.PendingToolCalls.ToDictionary(p => p.ToolCallId, StringComparer.Ordinal)
            : [];

        var scope = new ToolExecutionScope(context.ConversationKey ?? string.Empty, run.ThreadId, run.Id, services)
        {
            EnabledTools = context.Options?.ToolNames is { } names ? names.ToHashSet(StringComparer.Ordinal) : null,
            RecordContent = _options.Telemetry.IncludeContent,
        };
        var fromJournal = new List<ToolCallRecord>();
        var toRun = new List<ToolCallRequest>();
        var needApproval = new List<ToolCallRequest>();
        var expiredApprovals = 0;
        var now = _timeProvider.GetUtcNow();
        foreach (var call in calls)
        {
            var entry = journaled.GetValueOrDefault(call.ToolCallId);
            if (entry?.Output is { } output)
            {
                var status = entry.Approval == ApprovalState.Rejected ? ToolCallStatus.Rejected : ToolCallStatus.Succeeded;
                fromJournal.Add(new ToolCallRecord(call.ToolCallId, call.Name, call.ArgumentsJson, output, status, TimeSpan.Zero));
            }
            else if (entry?.Approval is ApprovalState.Expired
                || (entry?.Approval is ApprovalState.Pending && entry.ApprovalExpiresAt is { } due && due <= now))
            {
                expiredApprovals++;
                // Nobody decided in time (on Responses, the kit's approval timeout) and the run is resumed: the tool never
                // runs, and the model is told why (not that a restart interrupted it).
                var expired = ToolOutput.Error(ApprovalExpiredErrorType, $"Nobody approved the call to '{call.Name}' in time; it was not run.", _toolOptions.MaxOutputLength);
                fromJournal.Add(new ToolCallRecord(call.ToolCallId, call.Name, call.ArgumentsJson, expired, ToolCallStatus.Rejected, TimeSpan.Zero));
            }
            else if (entry?.Approval is ApprovalState.Pending || (entry?.Approval is null && context.ConversationKey is not null && NeedsApproval(call, context, run)))
            {
                needApproval.Add(call);
            }
            else if (context.Resuming && entry is not null && !_tools.GetPolicy(call.Name).Idempotent)
            {
                // Interrupted by a crash and not safe to run twice: the model is told, the app is told.
                fromJournal.Add(new ToolCallRecord(call.ToolCallId, call.Name, call.ArgumentsJson, NotReexecutedOutput(call.Name), ToolCallStatus.HandlerException, TimeSpan.Zero));
                if (context.ConversationKey is { } observedKey)
                {
                    await _observers.ToolCallNotReexecutedAsync(
                        new ToolCallNotReexecutedEvent(observedKey, _backend.Protocol, run.ThreadId, run.Id, call.ToolCallId, call.Name, call.ArgumentsJson),
                        cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                toRun.Add(call);
            }
        }

        var requestedAt = _timeProvider.GetUtcNow();
        var expiresAt = run.ExpiresAt ?? requestedAt + _options.Approvals.Timeout;
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            ActiveRunId = run.Id,
            ActiveRunStatus = RunStatus.RequiresAction,
            PendingToolCalls = [.. calls.Select(c => journaled.GetValueOrDefault(c.ToolCallId) is { } existing
                ? existing
                : new PendingToolCall(c.ToolCallId, c.Name, c.ArgumentsJson)
                {
                    Approval = needApproval.Contains(c) ? ApprovalState.Pending : null,
                    ApprovalRequestedAt = needApproval.Contains(c) ? requestedAt : null,
                    ApprovalExpiresAt = needApproval.Contains(c) ? expiresAt : null,
                })],
        }, cancellationToken).ConfigureAwait(false);

        if (expiredApprovals > 0 && _backend.ToolOutputsContinueInNewRun && toRun.Count == 0 && needApproval.Count == 0)
        {
            // Responses, an approval that timed out: nothing waits on the server, and a new response would be a model turn
            // nobody waits for. The outputs go straight into the conversation (so it accepts new input) and the run ends
            // expired.
            await _backend.AnswerToolCallsAsync(run.ThreadId, Outputs(fromJournal), cancellationToken).ConfigureAwait(false);
            context.ToolCalls.AddRange(fromJournal);
            context.StopReason = "approval expired";
            operation.Snapshot = run with { Status = RunStatus.Expired };
            return null;
        }

        var executed = toRun.Count == 0 ? [] : await _tools.ExecuteAsync(toRun, scope, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ToolCallRecord> records = [.. fromJournal, .. executed];
        context.ToolCalls.AddRange(executed);
        context.ToolCalls.AddRange(fromJournal);
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            PendingToolCalls = [.. b.PendingToolCalls.Select(p => records.FirstOrDefault(r => r.ToolCallId == p.ToolCallId) is { } r ? p with { Output = r.Output } : p)],
        }, cancellationToken).ConfigureAwait(false);
        if (needApproval.Count > 0)
        {
            // The gated calls wait for a person; the outputs computed so far are journaled. Nothing is submitted yet.
            context.AwaitingApprovals = [.. needApproval.Select(c => new ToolApproval(
                ToolApproval.CreateId(context.ConversationKey!, _backend.Protocol, c.ToolCallId),
                context.ConversationKey!, _backend.Protocol, run.ThreadId, run.Id, c.ToolCallId, c.Name, c.ArgumentsJson,
                ApprovalState.Pending, journaled.GetValueOrDefault(c.ToolCallId)?.ApprovalRequestedAt ?? requestedAt,
                journaled.GetValueOrDefault(c.ToolCallId)?.ApprovalExpiresAt ?? expiresAt))];
            foreach (var approval in context.AwaitingApprovals.Where(a => !journaled.ContainsKey(a.ToolCallId)))
            {
                KitLog.ApprovalRequested(_logger, approval.ToolName, approval.ToolCallId, approval.ConversationKey);
                await _observers.ApprovalRequestedAsync(approval, cancellationToken).ConfigureAwait(false);
            }

            RecordToolMetrics(executed);
            return null;
        }

        CrashIf("outputs-computed");
        ThrowIfLeaseLost(context.ConversationKey);
        RecordToolMetrics(executed);
        return records;
    }

    private void RecordToolMetrics(IReadOnlyList<ToolCallRecord> executed)
    {
        foreach (var record in executed)
        {
            var name = new KeyValuePair<string, object?>(KitTelemetry.ToolName, record.Name);
            var status = new KeyValuePair<string, object?>("assistants_kit.tool.status", record.Status.ToString());
            _telemetry.ToolCalls.Add(1, name, status);
            _telemetry.ToolDuration.Record(record.Duration.TotalSeconds, name);
            if (record.Status != ToolCallStatus.Succeeded)
            {
                _telemetry.ToolErrors.Add(1, name, status);
            }
        }
    }

    private bool NeedsApproval(ToolCallRequest call, RunContext context, RunSnapshot run)
    {
        var policy = _tools.GetPolicy(call.Name);
        return policy.RequiresApproval
            || (policy.RequiresApprovalWhen is { } predicate
                && predicate(new ToolCallContext(context.ConversationKey!, run.ThreadId, run.Id, call.ToolCallId, call.Name, call.ArgumentsJson)));
    }

    /// <summary>
    /// Submits a round's outputs. When the server refuses them because the run stopped waiting (it expired while the
    /// tools ran, or was cancelled meanwhile), the run as it is now is returned, so the wait ends with that outcome.
    /// </summary>
    private async Task<RunSnapshot> SubmitOrSettleAsync(RunSnapshot run, IReadOnlyList<ToolCallRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            return await _backend.SubmitToolOutputsAsync(run, Outputs(records), cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 400)
        {
            var current = await _backend.GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
            if (!current.Status.IsTerminal())
            {
                throw;
            }

            KitLog.ToolOutputsRefused(_logger, run.Id, run.ThreadId, current.Status.ToWireString());
            return current;
        }
    }

    /// <summary>
    /// Responses, streamed: the run goes on in a new response; the binding names it, so a cancel of the key's active run
    /// reaches the response that is running. The calls stay pending until the run ends (the response carrying their
    /// outputs may not add them).
    /// </summary>
    private Task OnNextResponseAsync(RunContext context, RunSnapshot next, CancellationToken cancellationToken) =>
        UpdateBindingAsync(context.ConversationKey, b => b with
        {
            ActiveRunId = next.Id,
            ActiveRunStatus = next.Status,
            Journal = b.Journal is { } j ? j with { RunId = next.Id } : null,
        }, cancellationToken);

    /// <summary>
    /// Responses: a response that carried tool outputs and then failed or was cancelled leaves them out of its
    /// conversation, whose calls would then have no output; the outputs the tools really returned are added. Returns
    /// <see langword="false"/> when that failed (the calls stay pending in the binding, for the key's next run).
    /// </summary>
    private async Task<bool> AnswerSentOutputsAsync(RunContext context, RunSnapshot run, CancellationToken cancellationToken)
    {
        if (_backend.ToolOutputsContinueInNewRun && context.ToolCalls.Count > 0 && run.RequiredToolCalls.Count == 0
            && run.Status is RunStatus.Failed or RunStatus.Cancelled or RunStatus.Cancelling)
        {
            try
            {
                await _backend.AnswerToolCallsAsync(context.ThreadId, Outputs(context.ToolCalls), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ClientResultException or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException)
            {
                // The run's own outcome wins; the next run of the key answers what is still pending.
                KitLog.ToolOutputsNotAdded(_logger, ex, run.Id, run.ThreadId);
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A model turn whose tool outputs continue the run under a new ID (<see cref="IProtocolBackend.ToolOutputsContinueInNewRun"/>;
    /// Responses: the response that asked for the tools) is a finished step of the run; its usage and messages add to the
    /// run's. Returns the step.
    /// </summary>
    private static RunStepRecord CloseTurn(RunContext context, RunSnapshot turn)
    {
        var step = turn.AsStep();
        context.EarlierUsage = Sum(context.EarlierUsage, turn.Usage);
        context.EarlierTurnSteps.Add(step);
        context.EarlierTurnMessages.AddRange(turn.Messages ?? []);
        return step;
    }

    private static KeyValuePair<string, string>[] Outputs(IReadOnlyList<ToolCallRecord> records) =>
        [.. records.Select(r => new KeyValuePair<string, string>(r.ToolCallId, r.Output))];

    /// <summary>The error outputs of tool calls whose run ended before their real outputs were sent.</summary>
    private KeyValuePair<string, string>[] StoppedOutputs(IEnumerable<string> toolCallIds, string reason) =>
        [.. toolCallIds.Select(id => new KeyValuePair<string, string>(id, ToolOutput.Error(RunStoppedErrorType, reason, _toolOptions.MaxOutputLength)))];

    /// <summary>Stops a run the kit decided to end (budget, loop guard): cancel on the server, then wait for <c>cancelled</c>.</summary>
    private async Task StopRunAsync(RunOperation operation, string reason)
    {
        operation.Context.StopReason = reason;
        KitLog.RunStoppedByKit(_logger, operation.Id, operation.ThreadId, reason);
        await CancelQuietlyAsync(operation, reason).ConfigureAwait(false);
    }

    /// <summary>On the polled path: lists the steps so far (only when a budget applies) and asks accounting.</summary>
    private async Task<bool> BudgetSaysStopAsync(RunContext context, RunSnapshot run, CancellationToken cancellationToken)
    {
        if (context.Accounting is not { HasBudgets: true } session)
        {
            return false;
        }

        // Responses: every response of the run so far is a finished step, with its usage (known before its tools run).
        IReadOnlyList<RunStepRecord> steps = _backend.ToolOutputsContinueInNewRun
            ? [.. context.EarlierTurnSteps, run.AsStep()]
            : await _backend.GetRunStepsAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
        var stop = false;
        foreach (var step in steps)
        {
            stop |= await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false) == StepBudgetDecision.StopAtNextBoundary;
        }

        return stop || session.StopRequested;
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
        context.RunOperationId = null;
        context.Resuming = false;
        if (_backend.ToolOutputsContinueInNewRun)
        {
            // Responses: the failed response is a step of the run; the tool outputs it carried are not in the conversation
            // (a failed response adds nothing), so they are added before the new response.
            context.EarlierTurnSteps.Add(run.AsStep());
            await _backend.AnswerToolCallsAsync(context.ThreadId, Outputs(context.ToolCalls), cancellationToken).ConfigureAwait(false);
        }

        operation.Snapshot = await CreateRunAsync(context, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Ends a run: accounting (steps, cost), the binding, the result. Returns null for a failed run (the caller throws
    /// or reports it).
    /// </summary>
    private async Task<RunResult?> CompleteRunAsync(
        RunContext context, RunSnapshot run, IReadOnlyList<AssistantMessage> messages, IReadOnlyList<RunStepRecord> steps, CancellationToken cancellationToken)
    {
        context.Steps = steps;
        var answered = await AnswerSentOutputsAsync(context, run, cancellationToken).ConfigureAwait(false);
        messages = CitationResolver.Resolve(messages, steps);
        RunCostSummary? cost = null;
        if (context.Accounting is { } session)
        {
            foreach (var step in steps)
            {
                await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false);
            }

            cost = await session.CompleteAsync(Sum(context.EarlierUsage, run.Usage) ?? TokenUsage.Zero, new ToolUsage(false, 0), cancellationToken).ConfigureAwait(false);
        }

        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            ActiveRunId = null,
            ActiveRunStatus = run.Status,

            // Decided approvals stay (a late approver is told it was decided); undecided ones close, expired, with the run.
            // Responses, outputs not added: every call stays pending (plain), answered before the key's next input.
            PendingToolCalls = answered
                ? [.. b.PendingToolCalls.Where(p => p.Approval is not null)
                    .Select(p => p.Approval == ApprovalState.Pending ? p with { Approval = ApprovalState.Expired } : p)]
                : [.. b.PendingToolCalls.Select(p => p with { Approval = null })],
            Journal = null,
            MessageCount = b.MessageCount + messages.Count,
        }, cancellationToken).ConfigureAwait(false);

        EndTelemetry(context, run, cost);
        context.LastRun = run;
        await RaiseFinishedAsync(context, cancellationToken).ConfigureAwait(false);
        if (run.Status == RunStatus.Failed)
        {
            return null;
        }

        if (_options.Telemetry.IncludeContent)
        {
            foreach (var message in messages)
            {
                context.Activity?.AddEvent(new ActivityEvent("gen_ai.assistant.message", tags: new ActivityTagsCollection { ["gen_ai.event.content"] = message.Text }));
                KitLog.AssistantMessageContent(_logger, run.Id, message.Id, message.Text);
            }
        }

        return new RunResult(context.ConversationKey ?? string.Empty, run.ThreadId, run.Id, context.Assistant?.Id ?? run.AssistantId, run.Status, messages)
        {
            Usage = Sum(context.EarlierUsage, run.Usage),
            IncompleteReason = run.IncompleteReason,
            ToolCalls = [.. context.ToolCalls],
            DefinitionVersion = context.Assistant?.Version ?? run.Metadata.GetValueOrDefault(DefinitionVersionKey),
            Steps = steps,
            Cost = cost,
            StopReason = context.StopReason,
            ToolLoopStop = context.ToolLoopStop,
        };
    }

    /// <summary>The result of a run paused for approvals: still <c>requires_action</c>, with the approvals to decide.</summary>
    private RunResult AwaitingResult(RunContext context, RunSnapshot run)
    {
        foreach (var approval in context.AwaitingApprovals)
        {
            context.Activity?.AddEvent(new ActivityEvent(
                "assistants_kit.approval.requested",
                tags: new ActivityTagsCollection { [KitTelemetry.ToolName] = approval.ToolName, [KitTelemetry.ToolCallId] = approval.ToolCallId }));
        }

        // Nothing is recorded for the pause: the run's usage, before and after it, is recorded once when it ends.
        context.Accounting?.Suspend();
        EndTelemetry(context, run, null);
        context.FinishRaised = true; // not finished: paused
        return new RunResult(context.ConversationKey ?? string.Empty, run.ThreadId, run.Id, context.Assistant?.Id ?? run.AssistantId, RunStatus.RequiresAction, [])
        {
            ToolCalls = [.. context.ToolCalls],
            PendingApprovals = context.AwaitingApprovals,
            DefinitionVersion = context.Assistant?.Version,
        };
    }

    private static RunFailedException Failed(RunContext context, RunSnapshot run) =>
        new(run.LastError ?? new RunError("unknown", "The run failed without an error."), run.ThreadId, run.Id, context.Attempts);

    private async Task OnCallerCancelledAsync(RunOperation operation)
    {
        if (_options.CancelRunOnCallerCancellation && !operation.HasCompleted)
        {
            KitLog.CancellingRunAfterCallerCancellation(_logger, operation.Id, operation.ThreadId);
            await CancelQuietlyAsync(operation).ConfigureAwait(false);
            await UpdateBindingAsync(operation.Context.ConversationKey, b => b with { ActiveRunStatus = RunStatus.Cancelling }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task CancelQuietlyAsync(RunOperation operation, string reason = "The run was cancelled.")
    {
        // The caller's token may already be cancelled: use a fresh, bounded one.
        using var timeout = new CancellationTokenSource(_options.CancelRunTimeout, _timeProvider);
        try
        {
            if (_backend.ToolOutputsContinueInNewRun && operation.Snapshot.Status == RunStatus.RequiresAction)
            {
                // Responses: the response that asked for tools has finished (nothing to cancel). Its calls get an error
                // output, so the conversation accepts new input; no response is created.
                var calls = operation.Snapshot.RequiredToolCalls;
                operation.Snapshot = operation.Snapshot with { Status = RunStatus.Cancelled };
                await _backend.AnswerToolCallsAsync(operation.ThreadId, StoppedOutputs(calls.Select(c => c.ToolCallId), reason), timeout.Token).ConfigureAwait(false);
                return;
            }

            operation.Snapshot = await _backend.CancelRunAsync(operation.ThreadId, operation.Id, timeout.Token).ConfigureAwait(false);
            await AnswerSentOutputsAsync(operation.Context, operation.Snapshot, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ClientResultException or HttpRequestException or OperationCanceledException or IOException)
        {
            KitLog.CancelRunFailed(_logger, ex, operation.Id, operation.ThreadId);
        }
    }

    private async Task DisposeAccountingAsync(RunContext context)
    {
        if (context.Accounting is { } session)
        {
            // Records what the run used if it never completed (failed, cancelled by the caller, timed out).
            context.Accounting = null;
            await session.DisposeAsync().ConfigureAwait(false);
        }

        EndTelemetry(context, null, null);
        await RaiseFinishedAsync(context, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task RaiseFinishedAsync(RunContext context, CancellationToken cancellationToken)
    {
        if (context.FinishRaised || context.ConversationKey is not { } key || context.LastRun is not { } run)
        {
            return;
        }

        context.FinishRaised = true;
        await _observers.RunFinishedAsync(
            new ConversationRunEvent(key, _backend.Protocol, run.ThreadId, run.Id, context.Assistant?.Id ?? run.AssistantId, run.Status),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the run's span and records its metrics, once (with the final run, or without one when the wait ended early).</summary>
    private void EndTelemetry(RunContext context, RunSnapshot? run, RunCostSummary? cost)
    {
        if (context.TelemetryEnded)
        {
            return;
        }

        context.TelemetryEnded = true;
        if (context.CountedActive)
        {
            _telemetry.ActiveRuns.Add(-1);
        }

        var activity = context.Activity;
        var model = run?.Model ?? context.Assistant?.Spec.Model;
        TagList tags = default;
        tags.Add(KitTelemetry.OperationName, "invoke_agent");
        tags.Add(KitTelemetry.ProviderName, KitTelemetry.Provider(_clients.Endpoint));
        tags.Add(KitTelemetry.RequestModel, context.Assistant?.Spec.Model);
        if (run is not null)
        {
            tags.Add(KitTelemetry.ResponseModel, run.Model);
        }

        var errorType = run?.Status == RunStatus.Failed ? run.LastError?.Code ?? "failed" : run is null ? context.ErrorType ?? "_OTHER" : null;
        if (errorType is not null)
        {
            tags.Add(KitTelemetry.ErrorType, errorType);
        }

        var usage = Sum(context.EarlierUsage, run?.Usage);
        if (usage is { } u)
        {
            var input = tags;
            input.Add(KitTelemetry.TokenType, "input");
            var output = tags;
            output.Add(KitTelemetry.TokenType, "output");
            _telemetry.TokenUsage.Record(u.InputTokens, input);
            _telemetry.TokenUsage.Record(u.OutputTokens, output);
            activity?.SetTag(KitTelemetry.InputTokens, u.InputTokens);
            activity?.SetTag(KitTelemetry.OutputTokens, u.OutputTokens);
            activity?.SetTag(KitTelemetry.CachedInputTokens, u.CachedInputTokens);
            activity?.SetTag(KitTelemetry.ReasoningTokens, u.ReasoningTokens);
        }

        if (cost?.Cost is { } money)
        {
            _telemetry.Cost.Add((double)money, tags);
        }

        _telemetry.Polls.Record(context.Polls, tags);
        var elapsed = context.TelemetryStart != 0 ? _timeProvider.GetElapsedTime(context.TelemetryStart) : _timeProvider.GetUtcNow() - context.StartedAt;
        _telemetry.OperationDuration.Record(elapsed.TotalSeconds, tags);
        if (activity is null)
        {
            return;
        }

        activity.SetTag(KitTelemetry.ResponseModel, model);
        if (run is not null)
        {
            activity.SetTag(KitTelemetry.RunId, run.Id);
            activity.SetTag(KitTelemetry.RunStatusTag, run.Status.ToWireString());
        }

        if (errorType is not null)
        {
            activity.SetTag(KitTelemetry.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, run?.LastError?.Message ?? errorType);
        }

        activity.Stop();
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static IReadOnlyList<MessageAttachment> Attachments(RunOptions? runOptions) =>
        runOptions?.Attachments is { Count: > 0 } attachments ? [.. attachments] : [];

    private static TokenUsage? Sum(TokenUsage? a, TokenUsage? b) => a is null ? b : b is null ? a : a.Value + b.Value;

    private Task<T> Translate<T>(Func<Task<T>> action) => ServerErrors.TranslateAsync(action, _options.ApiKey);
}
