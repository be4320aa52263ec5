using Assistants.Kit.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>The kit's <see cref="IRunAccounting"/>: prices runs, records them in the ledger, and enforces budgets.</summary>
internal sealed class RunAccounting : IRunAccounting
{
    public RunAccounting(
        IOptions<AccountingOptions> options,
        AccountingPrices prices,
        IUsageLedger ledger,
        IEnumerable<IBudgetAlertSink> alertSinks,
        ILoggerFactory loggerFactory,
        TimeProvider? timeProvider = null)
    {
        Options = Throw.IfNull(options).Value;
        Prices = Throw.IfNull(prices);
        Ledger = Throw.IfNull(ledger);
        Time = timeProvider ?? TimeProvider.System;
        Logger = Throw.IfNull(loggerFactory).CreateLogger<RunAccounting>();
        Budgets = new BudgetEngine(Options, Ledger, Time, Throw.IfNull(alertSinks), Logger);
    }

    internal AccountingOptions Options { get; }

    internal AccountingPrices Prices { get; }

    internal IUsageLedger Ledger { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal BudgetEngine Budgets { get; }

    internal CodeInterpreterSessionTracker CodeInterpreterSessions { get; } = new();

    /// <inheritdoc />
    public async ValueTask<RunAccountingSession> BeginRunAsync(RunAccountingContext context, CancellationToken cancellationToken)
    {
        _ = Throw.IfNull(context);
        _ = Throw.IfNullOrWhiteSpace(context.ConversationKey);
        _ = Throw.IfNull(context.Tags);

        long maxPrompt = context.MaxPromptTokens ?? Options.AssumedMaxPromptTokens ?? 0;
        long maxCompletion = context.MaxCompletionTokens ?? Options.AssumedMaxCompletionTokens ?? 0;
        var price = Prices.Find(context.Model);
        var worstCost = price?.WorstCaseCost(maxPrompt, maxCompletion) ?? 0m;
        var reservation = await Budgets.ReserveAsync(context, maxPrompt + maxCompletion, worstCost, cancellationToken)
            .ConfigureAwait(false);
        return new RunAccountingSession(this, context, reservation, Time.GetUtcNow());
    }
}
