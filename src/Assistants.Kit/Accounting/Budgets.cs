namespace Assistants.Kit;

/// <summary>What a budget counts against.</summary>
public enum BudgetScope
{
    /// <summary>All runs together.</summary>
    Global,

    /// <summary>
    /// Each conversation key separately (<see cref="BudgetOptions.Value"/> unset), or one key
    /// (<see cref="BudgetOptions.Value"/> set).
    /// </summary>
    ConversationKey,

    /// <summary>
    /// Each value of the caller-defined tag <see cref="BudgetOptions.Tag"/> separately (for example each tenant), or one
    /// value (<see cref="BudgetOptions.Value"/> set). Runs without the tag are not counted.
    /// </summary>
    Tag,
}

/// <summary>What a budget's limit is measured in.</summary>
public enum BudgetUnit
{
    /// <summary>US dollars, as priced by the price table (usage of unpriced models counts as 0).</summary>
    Currency,

    /// <summary>Tokens: input plus output.</summary>
    Tokens,
}

/// <summary>The window a budget or a total is counted over; days and months begin at midnight in the configured zone.</summary>
public enum BudgetPeriod
{
    /// <summary>A calendar day.</summary>
    Day,

    /// <summary>A calendar month.</summary>
    Month,
}

/// <summary>What happens when a budget is exhausted while a run is going.</summary>
public enum BudgetOverrunBehavior
{
    /// <summary>The run is cancelled at the next step boundary.</summary>
    StopAtNextBoundary,

    /// <summary>The run finishes; later runs are refused.</summary>
    LetFinish,
}

/// <summary>A budget: a limit in tokens or currency over a day or a month, for a scope.</summary>
public sealed class BudgetOptions
{
    /// <summary>Gets or sets what the budget counts against (default <see cref="BudgetScope.Global"/>).</summary>
    public BudgetScope Scope { get; set; } = BudgetScope.Global;

    /// <summary>Gets or sets the tag name for <see cref="BudgetScope.Tag"/> (for example <c>tenant</c>).</summary>
    public string? Tag { get; set; }

    /// <summary>
    /// Gets or sets the one conversation key or tag value the budget is for; <see langword="null"/> means each one
    /// separately.
    /// </summary>
    public string? Value { get; set; }

    /// <summary>Gets or sets the window (default <see cref="BudgetPeriod.Day"/>).</summary>
    public BudgetPeriod Period { get; set; } = BudgetPeriod.Day;

    /// <summary>Gets or sets the unit of <see cref="Limit"/> (default <see cref="BudgetUnit.Currency"/>).</summary>
    public BudgetUnit Unit { get; set; } = BudgetUnit.Currency;

    /// <summary>Gets or sets the limit, in US dollars or tokens; must be greater than zero.</summary>
    public decimal Limit { get; set; }

    /// <summary>Gets or sets whether the worst case of a run is checked before it starts; <see langword="null"/> uses <see cref="AccountingOptions.RefuseOnWorstCase"/>.</summary>
    public bool? RefuseOnWorstCase { get; set; }

    /// <summary>Gets or sets what happens when the budget is exhausted during a run; <see langword="null"/> uses <see cref="AccountingOptions.OnBudgetExceeded"/>.</summary>
    public BudgetOverrunBehavior? OnExceeded { get; set; }

    /// <summary>Gets or sets the alert thresholds of this budget; <see langword="null"/> uses <see cref="AccountingOptions.AlertThresholds"/>.</summary>
    public IList<decimal>? AlertThresholds { get; set; }
}

/// <summary>Why a run was refused.</summary>
public enum BudgetRefusalReason
{
    /// <summary>What was spent (plus what running runs reserved) already reaches the limit.</summary>
    LimitReached,

    /// <summary>What was spent plus reserved plus the run's worst case would pass the limit.</summary>
    WorstCaseExceedsLimit,
}

/// <summary>
/// Thrown before a run is created when a budget does not allow it; nothing was sent to the service.
/// </summary>
public sealed class BudgetExceededException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="BudgetExceededException"/> class.</summary>
    /// <param name="budgetName">The budget's name.</param>
    /// <param name="scope">What the budget counts against.</param>
    /// <param name="scopeValue">The conversation key or tag value, or <see langword="null"/> for a global budget.</param>
    /// <param name="period">The budget's period.</param>
    /// <param name="window">The window that was counted.</param>
    /// <param name="unit">The unit of the numbers.</param>
    /// <param name="limit">The limit.</param>
    /// <param name="spent">What was spent in the window.</param>
    /// <param name="reserved">What running runs reserved.</param>
    /// <param name="requested">The refused run's worst case.</param>
    /// <param name="reason">Why the run was refused.</param>
    public BudgetExceededException(
        string budgetName,
        BudgetScope scope,
        string? scopeValue,
        BudgetPeriod period,
        UsageWindow window,
        BudgetUnit unit,
        decimal limit,
        decimal spent,
        decimal reserved,
        decimal requested,
        BudgetRefusalReason reason)
        : base(FormatMessage(budgetName, scope, scopeValue, period, window, unit, limit, spent, reserved, requested, reason))
    {
        BudgetName = budgetName;
        Scope = scope;
        ScopeValue = scopeValue;
        Period = period;
        Window = window;
        Unit = unit;
        Limit = limit;
        Spent = spent;
        Reserved = reserved;
        Requested = requested;
        Reason = reason;
    }

    /// <summary>Gets the budget's name.</summary>
    public string BudgetName { get; }

    /// <summary>Gets what the budget counts against.</summary>
    public BudgetScope Scope { get; }

    /// <summary>Gets the conversation key or tag value the budget was counted for; <see langword="null"/> for a global budget.</summary>
    public string? ScopeValue { get; }

    /// <summary>Gets the budget's period.</summary>
    public BudgetPeriod Period { get; }

    /// <summary>Gets the window that was counted.</summary>
    public UsageWindow Window { get; }

    /// <summary>Gets the unit of <see cref="Limit"/>, <see cref="Spent"/>, <see cref="Reserved"/> and <see cref="Requested"/>.</summary>
    public BudgetUnit Unit { get; }

    /// <summary>Gets the limit.</summary>
    public decimal Limit { get; }

    /// <summary>Gets what was spent in the window.</summary>
    public decimal Spent { get; }

    /// <summary>Gets what runs still going had reserved.</summary>
    public decimal Reserved { get; }

    /// <summary>Gets the refused run's worst case (0 when it was not computed or not known).</summary>
    public decimal Requested { get; }

    /// <summary>Gets why the run was refused.</summary>
    public BudgetRefusalReason Reason { get; }

    private static string FormatMessage(
        string budgetName,
        BudgetScope scope,
        string? scopeValue,
        BudgetPeriod period,
        UsageWindow window,
        BudgetUnit unit,
        decimal limit,
        decimal spent,
        decimal reserved,
        decimal requested,
        BudgetRefusalReason reason)
    {
        var what = scopeValue is null ? scope.ToString() : $"{scope} '{scopeValue}'";
        var numbers = $"limit={Amount(unit, limit)} spent={Amount(unit, spent)} reserved={Amount(unit, reserved)}";
        return reason == BudgetRefusalReason.LimitReached
            ? $"Budget '{budgetName}' ({what}, {period} {window}) is exhausted: {numbers}. The run was not started."
            : $"Budget '{budgetName}' ({what}, {period} {window}) cannot fit the run's worst case {Amount(unit, requested)}: {numbers}. The run was not started.";
    }

    private static string Amount(BudgetUnit unit, decimal value) =>
        unit == BudgetUnit.Currency
            ? "$" + value.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString(System.Globalization.CultureInfo.InvariantCulture) + " tokens";
}

/// <summary>Raised once per budget, scope value, window and threshold when what was spent reaches the threshold.</summary>
/// <param name="BudgetName">The budget's name.</param>
/// <param name="Scope">What the budget counts against.</param>
/// <param name="ScopeValue">The conversation key or tag value; <see langword="null"/> for a global budget.</param>
/// <param name="Period">The budget's period.</param>
/// <param name="Window">The window counted.</param>
/// <param name="Unit">The unit of <paramref name="Limit"/> and <paramref name="Spent"/>.</param>
/// <param name="Limit">The limit.</param>
/// <param name="Spent">What was spent in the window.</param>
/// <param name="Threshold">The fraction of the limit that was reached (for example 0.8).</param>
public sealed record BudgetThresholdAlert(
    string BudgetName,
    BudgetScope Scope,
    string? ScopeValue,
    BudgetPeriod Period,
    UsageWindow Window,
    BudgetUnit Unit,
    decimal Limit,
    decimal Spent,
    decimal Threshold);

/// <summary>Receives budget threshold alerts. Register any number; an exception in one is logged and does not fail the run.</summary>
public interface IBudgetAlertSink
{
    /// <summary>Handles an alert.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the alert is handled.</returns>
    ValueTask OnThresholdReachedAsync(BudgetThresholdAlert alert, CancellationToken cancellationToken);
}
