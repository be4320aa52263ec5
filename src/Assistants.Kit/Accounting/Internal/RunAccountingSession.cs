using Assistants.Kit.Internal;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>
/// Accounts one run: <see cref="SetThread"/> once the run exists, <see cref="RecordStepAsync"/> for every step update,
/// <see cref="CompleteAsync"/> when the run ends, and always <see cref="DisposeAsync"/>. A session that is disposed
/// without completing records the usage of the steps it saw and releases its reservation.
/// </summary>
internal sealed class RunAccountingSession : IAsyncDisposable
{
    private readonly RunAccounting _owner;
    private readonly BudgetReservation _reservation;
    private readonly DateTimeOffset _startedAt;
    private readonly Lock _gate = new();
    private readonly List<RunStepRecord> _steps = [];
    private readonly HashSet<string> _loggedSteps = new(StringComparer.Ordinal);
    private readonly HashSet<(string Name, string? ScopeValue)> _reportedExhausted = [];
    private int _state; // 0 running, 1 completing or completed, 2 disposed

    internal RunAccountingSession(RunAccounting owner, RunAccountingContext context, BudgetReservation reservation, DateTimeOffset startedAt)
    {
        _owner = owner;
        Context = context;
        _reservation = reservation;
        _startedAt = startedAt;
        Model = context.Model;
    }

    /// <summary>Gets who runs what.</summary>
    public RunAccountingContext Context { get; private set; }

    /// <summary>Gets whether any budget applies to the run (then the engine checks steps mid-run).</summary>
    public bool HasBudgets => _reservation.Budgets.Count > 0;

    /// <summary>Sets the assistant ID once the assistant was ensured (budgets are checked before anything is sent, so before that).</summary>
    /// <param name="assistantId">The assistant ID.</param>
    public void SetAssistant(string assistantId) => Context = Context with { AssistantId = Throw.IfNullOrWhiteSpace(assistantId) };

    /// <summary>Gets the thread (or conversation) ID, once set.</summary>
    public string? ThreadId { get; private set; }

    /// <summary>Gets the run (or first response) ID, once set.</summary>
    public string? RunId { get; private set; }

    /// <summary>Gets the model the run is priced as.</summary>
    public string? Model { get; private set; }

    /// <summary>Gets whether a budget asked the run to stop.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Gets the steps seen so far (the latest update of each step, in first-seen order).</summary>
    public IReadOnlyList<RunStepRecord> Steps
    {
        get
        {
            lock (_gate)
            {
                return [.. _steps];
            }
        }
    }

    /// <summary>Sets the thread and run once the run exists, and the model when the service reported it.</summary>
    /// <param name="threadId">The thread (or conversation) ID.</param>
    /// <param name="runId">The run (or first response) ID.</param>
    /// <param name="model">The model the run uses, as the service reported it; <see langword="null"/> keeps the context's.</param>
    public void SetThread(string threadId, string runId, string? model = null)
    {
        ThreadId = Throw.IfNullOrWhiteSpace(threadId);
        RunId = Throw.IfNullOrWhiteSpace(runId);
        if (!string.IsNullOrWhiteSpace(model))
        {
            Model = model;
        }
    }

    /// <summary>
    /// Records a step (a later update of the same step ID replaces the earlier one, so usage is never counted twice),
    /// logs it once it has finished, and checks the budgets against what was recorded plus this run's steps so far.
    /// </summary>
    /// <param name="step">The step.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns><see cref="StepBudgetDecision.StopAtNextBoundary"/> once a budget whose behavior is to stop is exhausted.</returns>
    public async ValueTask<StepBudgetDecision> RecordStepAsync(RunStepRecord step, CancellationToken cancellationToken)
    {
        _ = Throw.IfNull(step);
        TokenUsage soFar;
        bool log;
        lock (_gate)
        {
            ThrowIfEnded();
            var index = _steps.FindIndex(s => string.Equals(s.StepId, step.StepId, StringComparison.Ordinal));
            if (index >= 0)
            {
                _steps[index] = step;
            }
            else
            {
                _steps.Add(step);
            }

            soFar = SumSteps();
            log = step.Status != RunStepState.InProgress && _loggedSteps.Add(step.StepId);
        }

        if (log)
        {
            var usage = step.Usage ?? TokenUsage.Zero;
            AccountingLog.RunStep(
                _owner.Logger, step.StepId, RunId, ThreadId, step.Type, step.Status,
                string.Join(",", step.ToolCalls.Select(c => c.Name ?? c.Kind.ToString())),
                usage.InputTokens, usage.CachedInputTokens, usage.OutputTokens, usage.ReasoningTokens, step.Latency?.TotalMilliseconds);
        }

        var costSoFar = _owner.Prices.Find(Model)?.CostOf(soFar) ?? 0m;
        _owner.Budgets.Update(_reservation, soFar, costSoFar);
        var exhausted = await _owner.Budgets.FindExhaustedAsync(_reservation, soFar, costSoFar, cancellationToken).ConfigureAwait(false);
        foreach (var (budget, spent, behavior) in exhausted)
        {
            bool first;
            lock (_gate)
            {
                first = _reportedExhausted.Add(budget.Key);
            }

            if (first)
            {
                AccountingLog.BudgetExhaustedDuringRun(
                    _owner.Logger, budget.Name, budget.Options.Scope, budget.ScopeValue, RunId, spent, budget.Options.Limit,
                    budget.Options.Unit, behavior);
            }

            if (behavior == BudgetOverrunBehavior.StopAtNextBoundary)
            {
                StopRequested = true;
            }
        }

        return StopRequested ? StepBudgetDecision.StopAtNextBoundary : StepBudgetDecision.Continue;
    }

    /// <summary>
    /// Prices and records the run, settles its reservation (releasing what it did not use), and raises threshold alerts.
    /// </summary>
    /// <param name="runUsage">
    /// The run's usage as the service reported it (with cached and reasoning tokens; see
    /// <see cref="TokenUsage.Parse(BinaryData)"/>). <see cref="TokenUsage.Zero"/> uses the sum of the recorded steps.
    /// </param>
    /// <param name="toolUsage">
    /// Built-in tools the run used. Code interpreter and file search calls seen in the recorded steps count too (the
    /// larger of the two file search counts is charged, never their sum).
    /// </param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The run's cost and its conversation's totals.</returns>
    public async ValueTask<RunCostSummary> CompleteAsync(TokenUsage runUsage, ToolUsage toolUsage, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowIfEnded();
            _state = 1;
        }

        try
        {
            var (entry, steps) = BuildEntry(runUsage, toolUsage);
            await _owner.Ledger.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
            _owner.Budgets.Release(_reservation);
            var conversation = await _owner.Ledger.GetTotalsAsync(
                new UsageQuery { ConversationKey = Context.ConversationKey }, cancellationToken).ConfigureAwait(false);
            AccountingLog.RunAccounted(
                _owner.Logger, RunId, ThreadId, Context.ConversationKey, Context.AssistantId, entry.Model,
                entry.Usage.InputTokens, entry.Usage.CachedInputTokens, entry.Usage.OutputTokens, entry.Usage.ReasoningTokens,
                steps.Count, entry.CodeInterpreterSessions, entry.FileSearchCalls,
                RunCostSummary.FormatCost(entry.Cost), RunCostSummary.FormatCost(conversation.Cost));
            await _owner.Budgets.RaiseAlertsAsync(_reservation.Budgets, cancellationToken).ConfigureAwait(false);
            return new RunCostSummary
            {
                Model = entry.Model,
                Usage = entry.Usage,
                TokenCost = entry.TokenCost,
                ToolCost = entry.ToolCost,
                CodeInterpreterSessions = entry.CodeInterpreterSessions,
                FileSearchCalls = entry.FileSearchCalls,
                Steps = steps,
                ConversationTotals = conversation,
                StoppedByBudget = StopRequested,
            };
        }
        finally
        {
            _owner.Budgets.Release(_reservation);
        }
    }

    /// <summary>
    /// Ends the session. When <see cref="CompleteAsync"/> was not called (the run failed, was cancelled, or the engine
    /// threw), records the usage of the recorded steps and releases the reservation. Never throws.
    /// </summary>
    /// <returns>A task that completes when the session has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        int previous;
        lock (_gate)
        {
            previous = _state;
            _state = 2;
        }

        if (previous != 0)
        {
            return;
        }

        try
        {
            var (entry, _) = BuildEntry(TokenUsage.Zero, ToolUsage.None);
            AccountingLog.RunAbandoned(_owner.Logger, RunId, Context.ConversationKey);
            await _owner.Ledger.AppendAsync(entry, CancellationToken.None).ConfigureAwait(false);
            _owner.Budgets.Release(_reservation);
            await _owner.Budgets.RaiseAlertsAsync(_reservation.Budgets, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            AccountingLog.RecordingFailed(_owner.Logger, ex, RunId, Context.ConversationKey);
        }
        finally
        {
            _owner.Budgets.Release(_reservation);
        }
    }

    /// <summary>
    /// Ends the session of a run paused for approvals without recording anything, and releases its reservation: the run
    /// goes on in the session of whoever decides, whose <see cref="CompleteAsync"/> records the whole run (the steps
    /// before the pause included). Recording the steps seen so far here would count them twice. A later
    /// <see cref="DisposeAsync"/> does nothing.
    /// </summary>
    public void Suspend()
    {
        lock (_gate)
        {
            if (_state != 0)
            {
                return;
            }

            _state = 2;
        }

        _owner.Budgets.Release(_reservation);
    }

    private (UsageEntry Entry, IReadOnlyList<RunStepRecord> Steps) BuildEntry(TokenUsage runUsage, ToolUsage toolUsage)
    {
        RunStepRecord[] steps;
        TokenUsage stepsUsage;
        lock (_gate)
        {
            steps = [.. _steps];
            stepsUsage = SumSteps();
        }

        var usage = runUsage == TokenUsage.Zero ? stepsUsage : runUsage;
        var now = _owner.Time.GetUtcNow();
        var tools = _owner.Prices.Tools;

        var firstCodeInterpreter = steps
            .Where(s => s.ToolCalls.Any(c => c.Kind == RunStepToolCallKind.CodeInterpreter))
            .Select(s => (DateTimeOffset?)s.CreatedAt)
            .Min();
        var sessions = 0;
        if (toolUsage.CodeInterpreterUsed || firstCodeInterpreter is not null)
        {
            sessions = _owner.Options.CodeInterpreterBilling == CodeInterpreterBilling.PerRun
                || _owner.CodeInterpreterSessions.TryOpenSession(
                    ThreadId ?? "conversation:" + Context.ConversationKey,
                    firstCodeInterpreter ?? _startedAt,
                    _owner.Options.CodeInterpreterSessionDuration,
                    now)
                ? 1
                : 0;
        }

        var fileSearchCalls = Math.Max(
            toolUsage.FileSearchCalls,
            steps.Sum(s => s.ToolCalls.Count(c => c.Kind == RunStepToolCallKind.FileSearch)));

        var entry = new UsageEntry
        {
            Timestamp = now,
            Kind = UsageEntryKind.Run,
            ConversationKey = Context.ConversationKey,
            ThreadId = ThreadId,
            RunId = RunId,
            AssistantId = Context.AssistantId,
            AssistantName = Context.AssistantName,
            Model = Model,
            Tags = Context.Tags.Count == 0 ? UsageEntry.EmptyTags : new Dictionary<string, string>(Context.Tags, StringComparer.Ordinal).AsReadOnly(),
            Usage = usage,
            TokenCost = _owner.Prices.Find(Model)?.CostOf(usage),
            ToolCost = tools.CodeInterpreterCost(sessions) + tools.FileSearchCost(fileSearchCalls),
            CodeInterpreterSessions = sessions,
            FileSearchCalls = fileSearchCalls,
        };
        return (entry, steps);
    }

    private TokenUsage SumSteps()
    {
        var sum = TokenUsage.Zero;
        foreach (var step in _steps)
        {
            sum += step.Usage ?? TokenUsage.Zero;
        }

        return sum;
    }

    private void ThrowIfEnded()
    {
        if (_state != 0)
        {
            throw new InvalidOperationException(
                _state == 1 ? "The run was already completed." : "The run's accounting session was disposed.");
        }
    }
}
