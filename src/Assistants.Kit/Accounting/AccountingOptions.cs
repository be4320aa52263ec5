namespace Assistants.Kit;

/// <summary>
/// Options of cost and token accounting, bound from the configuration section <see cref="SectionName"/>
/// (for example <c>AssistantsKit:Accounting:Prices:gpt-4.1:Input</c> or
/// <c>AssistantsKit:Accounting:Budgets:daily:Limit</c>) and from <c>ConfigureAccounting</c>.
/// </summary>
public sealed class AccountingOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "AssistantsKit:Accounting";

    /// <summary>
    /// Gets or sets the time zone (an IANA or Windows ID, for example <c>Europe/Berlin</c>) in which budget days and
    /// months begin. <see langword="null"/> (the default) means UTC.
    /// </summary>
    public string? TimeZoneId { get; set; }

    /// <summary>
    /// Gets model price overrides and additions, by model name. A shipped model may be overridden field by field; a new
    /// model needs <see cref="ModelPriceOptions.Input"/> and <see cref="ModelPriceOptions.Output"/>.
    /// </summary>
    public Dictionary<string, ModelPriceOptions> Prices { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets tool fee overrides.</summary>
    public ToolPriceOptions Tools { get; } = new();

    /// <summary>Gets or sets how code interpreter sessions are counted (default <see cref="CodeInterpreterBilling.PerThreadSession"/>).</summary>
    public CodeInterpreterBilling CodeInterpreterBilling { get; set; } = CodeInterpreterBilling.PerThreadSession;

    /// <summary>Gets or sets how long a code interpreter session stays open (default one hour).</summary>
    public TimeSpan CodeInterpreterSessionDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets the budgets, by name.</summary>
    public Dictionary<string, BudgetOptions> Budgets { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets a value indicating whether a run is also refused when what was spent plus the run's priced worst
    /// case (its maximum prompt and completion tokens) would pass a budget's limit. Default <see langword="false"/>:
    /// a run is refused only when the limit is already reached. A budget can override this with
    /// <see cref="BudgetOptions.RefuseOnWorstCase"/>.
    /// </summary>
    public bool RefuseOnWorstCase { get; set; }

    /// <summary>
    /// Gets or sets what happens when a budget is exhausted during a run (checked after each step). Default
    /// <see cref="BudgetOverrunBehavior.StopAtNextBoundary"/>. A budget can override this with
    /// <see cref="BudgetOptions.OnExceeded"/>.
    /// </summary>
    public BudgetOverrunBehavior OnBudgetExceeded { get; set; } = BudgetOverrunBehavior.StopAtNextBoundary;

    /// <summary>
    /// Gets or sets the fractions of a limit at which a threshold alert is raised, once per budget, scope and window.
    /// <see langword="null"/> (the default) means 0.8 and 1.0.
    /// </summary>
    public IList<decimal>? AlertThresholds { get; set; }

    /// <summary>
    /// Gets or sets the prompt tokens assumed for a run's worst case when the run sets no maximum. <see langword="null"/>
    /// (the default) counts nothing, so such runs reserve no input.
    /// </summary>
    public int? AssumedMaxPromptTokens { get; set; }

    /// <summary>
    /// Gets or sets the completion tokens assumed for a run's worst case when the run sets no maximum.
    /// <see langword="null"/> (the default) counts nothing, so such runs reserve no output.
    /// </summary>
    public int? AssumedMaxCompletionTokens { get; set; }

    internal static IList<decimal> DefaultAlertThresholds { get; } = Array.AsReadOnly([0.8m, 1.0m]);
}

/// <summary>A model price override, US dollars per one million tokens; unset fields keep the shipped price.</summary>
public sealed class ModelPriceOptions
{
    /// <summary>Gets or sets the price of one million uncached input tokens.</summary>
    public decimal? Input { get; set; }

    /// <summary>Gets or sets the price of one million cached input tokens (a new model defaults to its input price).</summary>
    public decimal? CachedInput { get; set; }

    /// <summary>Gets or sets the price of one million output tokens.</summary>
    public decimal? Output { get; set; }
}

/// <summary>Tool fee overrides, US dollars; unset fields keep the shipped fee.</summary>
public sealed class ToolPriceOptions
{
    /// <summary>Gets or sets the price of one code interpreter session.</summary>
    public decimal? CodeInterpreterPerSession { get; set; }

    /// <summary>Gets or sets the price of 1,000 file search calls.</summary>
    public decimal? FileSearchPerThousandCalls { get; set; }

    /// <summary>Gets or sets the price of one gigabyte of vector storage for one day.</summary>
    public decimal? VectorStoragePerGigabyteDay { get; set; }
}
