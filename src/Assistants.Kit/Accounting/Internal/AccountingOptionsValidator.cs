using System.Globalization;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>Validates <see cref="AccountingOptions"/>; every message names the option and the bad value.</summary>
internal sealed class AccountingOptionsValidator : IValidateOptions<AccountingOptions>
{
    public ValidateOptionsResult Validate(string? name, AccountingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (!AccountingTimeZone.TryResolve(options.TimeZoneId, out _))
        {
            failures.Add($"AccountingOptions.TimeZoneId '{options.TimeZoneId}' is not a time zone known to this machine (use an IANA ID such as 'Europe/Berlin', or leave it empty for UTC).");
        }

        foreach (var (model, price) in options.Prices)
        {
            if (string.IsNullOrWhiteSpace(model))
            {
                failures.Add("AccountingOptions.Prices has an entry with an empty model name.");
                continue;
            }

            if (price is null)
            {
                continue;
            }

            CheckNonNegative(failures, $"Prices:{model}:Input", price.Input);
            CheckNonNegative(failures, $"Prices:{model}:CachedInput", price.CachedInput);
            CheckNonNegative(failures, $"Prices:{model}:Output", price.Output);
            if (!PriceTable.Default.Models.ContainsKey(model.Trim()) && (price.Input is null || price.Output is null))
            {
                failures.Add($"AccountingOptions.Prices:{model} is not a shipped model, so it needs both Input and Output (got Input={Show(price.Input)}, Output={Show(price.Output)}).");
            }
        }

        CheckNonNegative(failures, "Tools:CodeInterpreterPerSession", options.Tools.CodeInterpreterPerSession);
        CheckNonNegative(failures, "Tools:FileSearchPerThousandCalls", options.Tools.FileSearchPerThousandCalls);
        CheckNonNegative(failures, "Tools:VectorStoragePerGigabyteDay", options.Tools.VectorStoragePerGigabyteDay);

        if (!Enum.IsDefined(options.CodeInterpreterBilling))
        {
            failures.Add($"AccountingOptions.CodeInterpreterBilling '{options.CodeInterpreterBilling}' is not a known value.");
        }

        if (options.CodeInterpreterSessionDuration <= TimeSpan.Zero)
        {
            failures.Add($"AccountingOptions.CodeInterpreterSessionDuration '{options.CodeInterpreterSessionDuration}' must be positive.");
        }

        if (!Enum.IsDefined(options.OnBudgetExceeded))
        {
            failures.Add($"AccountingOptions.OnBudgetExceeded '{options.OnBudgetExceeded}' is not a known value.");
        }

        CheckThresholds(failures, "AlertThresholds", options.AlertThresholds);

        if (options.AssumedMaxPromptTokens is < 0)
        {
            failures.Add($"AccountingOptions.AssumedMaxPromptTokens '{options.AssumedMaxPromptTokens}' must not be negative.");
        }

        if (options.AssumedMaxCompletionTokens is < 0)
        {
            failures.Add($"AccountingOptions.AssumedMaxCompletionTokens '{options.AssumedMaxCompletionTokens}' must not be negative.");
        }

        foreach (var (budgetName, budget) in options.Budgets)
        {
            ValidateBudget(failures, budgetName, budget);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateBudget(List<string> failures, string name, BudgetOptions? budget)
    {
        var prefix = $"AccountingOptions.Budgets:{name}";
        if (string.IsNullOrWhiteSpace(name))
        {
            failures.Add("AccountingOptions.Budgets has a budget with an empty name.");
        }

        if (budget is null)
        {
            failures.Add($"{prefix} is empty.");
            return;
        }

        if (budget.Limit <= 0)
        {
            failures.Add($"{prefix}:Limit '{Show(budget.Limit)}' must be greater than zero.");
        }

        if (!Enum.IsDefined(budget.Scope))
        {
            failures.Add($"{prefix}:Scope '{budget.Scope}' is not a known value.");
        }

        if (!Enum.IsDefined(budget.Unit))
        {
            failures.Add($"{prefix}:Unit '{budget.Unit}' is not a known value.");
        }

        if (!Enum.IsDefined(budget.Period))
        {
            failures.Add($"{prefix}:Period '{budget.Period}' is not a known value.");
        }

        if (budget.OnExceeded is { } behavior && !Enum.IsDefined(behavior))
        {
            failures.Add($"{prefix}:OnExceeded '{behavior}' is not a known value.");
        }

        switch (budget.Scope)
        {
            case BudgetScope.Tag when string.IsNullOrWhiteSpace(budget.Tag):
                failures.Add($"{prefix} has Scope 'Tag' but no Tag name (got '{budget.Tag}').");
                break;
            case BudgetScope.Global when budget.Tag is not null || budget.Value is not null:
                failures.Add($"{prefix} has Scope 'Global', which takes no Tag or Value (got Tag='{budget.Tag}', Value='{budget.Value}').");
                break;
            case BudgetScope.ConversationKey when budget.Tag is not null:
                failures.Add($"{prefix} has Scope 'ConversationKey', which takes no Tag (got '{budget.Tag}').");
                break;
        }

        if (budget.Unit == BudgetUnit.Tokens && budget.Limit != decimal.Truncate(budget.Limit))
        {
            failures.Add($"{prefix}:Limit '{Show(budget.Limit)}' is in tokens and must be a whole number.");
        }

        CheckThresholds(failures, $"Budgets:{name}:AlertThresholds", budget.AlertThresholds);
    }

    private static void CheckThresholds(List<string> failures, string path, IList<decimal>? thresholds)
    {
        if (thresholds is null)
        {
            return;
        }

        foreach (var threshold in thresholds)
        {
            if (threshold <= 0)
            {
                failures.Add($"AccountingOptions.{path} value '{Show(threshold)}' must be greater than zero (0.8 means 80% of the limit).");
            }
        }
    }

    private static void CheckNonNegative(List<string> failures, string path, decimal? value)
    {
        if (value is < 0)
        {
            failures.Add($"AccountingOptions.{path} '{Show(value)}' must not be negative.");
        }
    }

    private static string Show(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "(unset)";
}
