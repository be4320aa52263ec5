using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>A budget as it applies to one run: which budget, and for which conversation key or tag value.</summary>
internal sealed record ApplicableBudget(string Name, BudgetOptions Options, string? ScopeValue)
{
    public (string Name, string? ScopeValue) Key => (Name, ScopeValue);

    public decimal Amount(TokenUsage usage, decimal cost) =>
        Options.Unit == BudgetUnit.Tokens ? usage.TotalTokens : cost;
}

/// <summary>What a running run holds against its budgets: its worst case, or what it has used when that is more.</summary>
internal sealed class BudgetReservation(IReadOnlyList<ApplicableBudget> budgets, long worstTokens, decimal worstCost)
{
    public IReadOnlyList<ApplicableBudget> Budgets { get; } = budgets;

    public long WorstTokens { get; } = worstTokens;

    public decimal WorstCost { get; } = worstCost;

    public long HeldTokens { get; set; } = worstTokens;

    public decimal HeldCost { get; set; } = worstCost;

    public bool Released { get; set; }

    public decimal Held(BudgetUnit unit) => unit == BudgetUnit.Tokens ? HeldTokens : HeldCost;

    public decimal Worst(BudgetUnit unit) => unit == BudgetUnit.Tokens ? WorstTokens : WorstCost;
}

/// <summary>Budgets: refusal before a run, reservations of running runs, checks after steps, and threshold alerts.</summary>
internal sealed class BudgetEngine
{
    private readonly AccountingOptions _options;
    private readonly IUsageLedger _ledger;
    private readonly TimeProvider _time;
    private readonly IBudgetAlertSink[] _sinks;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reserveGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly List<BudgetReservation> _active = [];
    private readonly Dictionary<(string Name, string? ScopeValue, DateTimeOffset WindowStart, decimal Threshold), DateTimeOffset> _alerted = [];

    public BudgetEngine(AccountingOptions options, IUsageLedger ledger, TimeProvider time, IEnumerable<IBudgetAlertSink> sinks, ILogger logger)
    {
        _options = options;
        _ledger = ledger;
        _time = time;
        _sinks = [.. sinks];
        _logger = logger;
        Zone = AccountingTimeZone.Resolve(options.TimeZoneId);
    }

    public TimeZoneInfo Zone { get; }

    public int ActiveReservations
    {
        get
        {
            lock (_gate)
            {
                return _active.Count;
            }
        }
    }

    /// <summary>The budgets that apply to a run.</summary>
    public IReadOnlyList<ApplicableBudget> Applicable(RunAccountingContext context)
    {
        if (_options.Budgets.Count == 0)
        {
            return [];
        }

        var result = new List<ApplicableBudget>();
        foreach (var (name, budget) in _options.Budgets)
        {
            switch (budget.Scope)
            {
                case BudgetScope.Global:
                    result.Add(new ApplicableBudget(name, budget, null));
                    break;
                case BudgetScope.ConversationKey
                    when budget.Value is null || string.Equals(budget.Value, context.ConversationKey, StringComparison.Ordinal):
                    result.Add(new ApplicableBudget(name, budget, context.ConversationKey));
                    break;
                case BudgetScope.Tag
                    when budget.Tag is not null
                    && context.Tags.TryGetValue(budget.Tag, out var value)
                    && (budget.Value is null || string.Equals(budget.Value, value, StringComparison.Ordinal)):
                    result.Add(new ApplicableBudget(name, budget, value));
                    break;
            }
        }

        return result;
    }

    /// <summary>
    /// Refuses the run when a budget is exhausted (or, when asked, cannot fit the worst case), else reserves the worst
    /// case. Check and reservation are one atomic step, so two runs cannot both take the last of a budget.
    /// </summary>
    public async ValueTask<BudgetReservation> ReserveAsync(
        RunAccountingContext context, long worstTokens, decimal worstCost, CancellationToken cancellationToken)
    {
        var budgets = Applicable(context);
        var reservation = new BudgetReservation(budgets, worstTokens, worstCost);
        if (budgets.Count == 0)
        {
            return reservation;
        }

        await _reserveGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            foreach (var budget in budgets)
            {
                var window = UsageWindow.For(budget.Options.Period, now, Zone);
                var spent = await SpentAsync(budget, window, cancellationToken).ConfigureAwait(false);
                var reserved = ReservedByOthers(budget, reservation);
                var requested = reservation.Worst(budget.Options.Unit);
                var limit = budget.Options.Limit;
                BudgetRefusalReason? reason = null;
                if (spent + reserved >= limit)
                {
                    reason = BudgetRefusalReason.LimitReached;
                }
                else if ((budget.Options.RefuseOnWorstCase ?? _options.RefuseOnWorstCase) && spent + reserved + requested > limit)
                {
                    reason = BudgetRefusalReason.WorstCaseExceedsLimit;
                }

                if (reason is { } refused)
                {
                    AccountingLog.BudgetRefused(
                        _logger, budget.Name, budget.Options.Scope, budget.ScopeValue, budget.Options.Period, window.ToString(),
                        refused, limit, spent, reserved, requested, budget.Options.Unit);
                    throw new BudgetExceededException(
                        budget.Name, budget.Options.Scope, budget.ScopeValue, budget.Options.Period, window, budget.Options.Unit,
                        limit, spent, reserved, requested, refused);
                }
            }

            lock (_gate)
            {
                _active.Add(reservation);
            }

            return reservation;
        }
        finally
        {
            _reserveGate.Release();
        }
    }

    /// <summary>Raises what a running run holds to what it has used, when that passes its worst case.</summary>
    public void Update(BudgetReservation reservation, TokenUsage usedSoFar, decimal costSoFar)
    {
        lock (_gate)
        {
            reservation.HeldTokens = Math.Max(reservation.WorstTokens, usedSoFar.TotalTokens);
            reservation.HeldCost = Math.Max(reservation.WorstCost, costSoFar);
        }
    }

    /// <summary>The budgets this run's usage so far, on top of what was recorded, exhausts.</summary>
    public async ValueTask<IReadOnlyList<(ApplicableBudget Budget, decimal Spent, BudgetOverrunBehavior Behavior)>> FindExhaustedAsync(
        BudgetReservation reservation, TokenUsage usedSoFar, decimal costSoFar, CancellationToken cancellationToken)
    {
        if (reservation.Budgets.Count == 0)
        {
            return [];
        }

        var now = _time.GetUtcNow();
        List<(ApplicableBudget, decimal, BudgetOverrunBehavior)>? exhausted = null;
        foreach (var budget in reservation.Budgets)
        {
            var window = UsageWindow.For(budget.Options.Period, now, Zone);
            var spent = await SpentAsync(budget, window, cancellationToken).ConfigureAwait(false)
                + budget.Amount(usedSoFar, costSoFar);
            if (spent >= budget.Options.Limit)
            {
                (exhausted ??= []).Add((budget, spent, budget.Options.OnExceeded ?? _options.OnBudgetExceeded));
            }
        }

        return exhausted ?? (IReadOnlyList<(ApplicableBudget, decimal, BudgetOverrunBehavior)>)[];
    }

    /// <summary>Releases a reservation (idempotent).</summary>
    public void Release(BudgetReservation reservation)
    {
        lock (_gate)
        {
            if (!reservation.Released)
            {
                reservation.Released = true;
                _active.Remove(reservation);
            }
        }
    }

    /// <summary>Raises each threshold newly reached in the current window, once per budget, scope value and window.</summary>
    public async ValueTask RaiseAlertsAsync(IReadOnlyList<ApplicableBudget> budgets, CancellationToken cancellationToken)
    {
        if (budgets.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        foreach (var budget in budgets)
        {
            var thresholds = budget.Options.AlertThresholds ?? _options.AlertThresholds ?? AccountingOptions.DefaultAlertThresholds;
            if (thresholds.Count == 0)
            {
                continue;
            }

            var window = UsageWindow.For(budget.Options.Period, now, Zone);
            var spent = await SpentAsync(budget, window, cancellationToken).ConfigureAwait(false);
            foreach (var threshold in thresholds.Order())
            {
                if (spent < budget.Options.Limit * threshold || !TryMarkAlerted(budget, window, threshold, now))
                {
                    continue;
                }

                var alert = new BudgetThresholdAlert(
                    budget.Name, budget.Options.Scope, budget.ScopeValue, budget.Options.Period, window, budget.Options.Unit,
                    budget.Options.Limit, spent, threshold);
                AccountingLog.BudgetThresholdReached(
                    _logger, budget.Name, budget.Options.Scope, budget.ScopeValue, budget.Options.Period, window.ToString(),
                    threshold, spent, budget.Options.Limit, budget.Options.Unit);
                foreach (var sink in _sinks)
                {
                    try
                    {
                        await sink.OnThresholdReachedAsync(alert, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        AccountingLog.AlertSinkFailed(_logger, ex, sink.GetType().Name, budget.Name);
                    }
                }
            }
        }
    }

    private async ValueTask<decimal> SpentAsync(ApplicableBudget budget, UsageWindow window, CancellationToken cancellationToken)
    {
        var query = UsageQuery.In(window);
        query = budget.Options.Scope switch
        {
            BudgetScope.ConversationKey => query with { ConversationKey = budget.ScopeValue },
            BudgetScope.Tag => query with
            {
                Tags = new Dictionary<string, string>(StringComparer.Ordinal) { [budget.Options.Tag!] = budget.ScopeValue! },
            },
            _ => query,
        };
        var totals = await _ledger.GetTotalsAsync(query, cancellationToken).ConfigureAwait(false);
        return budget.Amount(totals.Usage, totals.Cost);
    }

    private decimal ReservedByOthers(ApplicableBudget budget, BudgetReservation self)
    {
        decimal reserved = 0;
        lock (_gate)
        {
            foreach (var other in _active)
            {
                if (ReferenceEquals(other, self))
                {
                    continue;
                }

                foreach (var held in other.Budgets)
                {
                    if (held.Key == budget.Key)
                    {
                        reserved += other.Held(budget.Options.Unit);
                        break;
                    }
                }
            }
        }

        return reserved;
    }

    private bool TryMarkAlerted(ApplicableBudget budget, UsageWindow window, decimal threshold, DateTimeOffset now)
    {
        lock (_gate)
        {
            foreach (var (key, end) in _alerted.ToArray())
            {
                if (end <= now)
                {
                    _alerted.Remove(key);
                }
            }

            return _alerted.TryAdd((budget.Name, budget.ScopeValue, window.Start, threshold), window.End);
        }
    }
}

/// <summary>Resolves the configured time zone.</summary>
internal static class AccountingTimeZone
{
    public static TimeZoneInfo Resolve(string? id) =>
        string.IsNullOrWhiteSpace(id) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id.Trim());

    public static bool TryResolve(string? id, out TimeZoneInfo zone)
    {
        try
        {
            zone = Resolve(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }
}
