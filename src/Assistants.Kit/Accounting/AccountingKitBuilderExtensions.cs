using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Assistants.Kit;

/// <summary>Registration of cost and token accounting, budgets and the usage ledger.</summary>
public static class AccountingKitBuilderExtensions
{
    /// <summary>
    /// Configures accounting in code. Runs after the binding of the <c>AssistantsKit:Accounting</c> configuration
    /// section, so what is set here wins.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder ConfigureAccounting(this IAssistantsKitBuilder builder, Action<AccountingOptions> configure)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(configure);
        builder.Services.AddAccountingCore();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Binds accounting options from a configuration section (in addition to <c>AssistantsKit:Accounting</c>).</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="section">The section, shaped like <see cref="AccountingOptions"/>.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder ConfigureAccounting(this IAssistantsKitBuilder builder, IConfiguration section)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(section);
        builder.Services.AddAccountingCore();
        builder.Services.Configure<AccountingOptions>(section);
        return builder;
    }

    /// <summary>Adds (or changes) a budget.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="name">The budget's name (unique; names compare case-insensitively).</param>
    /// <param name="configure">Sets the budget: scope, period, unit and limit.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddBudget(this IAssistantsKitBuilder builder, string name, Action<BudgetOptions> configure)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNullOrWhiteSpace(name);
        _ = Throw.IfNull(configure);
        return builder.ConfigureAccounting(options =>
        {
            if (!options.Budgets.TryGetValue(name, out var budget))
            {
                budget = new BudgetOptions();
                options.Budgets[name] = budget;
            }

            configure(budget);
        });
    }

    /// <summary>Replaces the in-memory usage ledger with another (for example a durable one).</summary>
    /// <typeparam name="TLedger">The ledger type, created by the container as a singleton.</typeparam>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder UseUsageLedger<TLedger>(this IAssistantsKitBuilder builder)
        where TLedger : class, IUsageLedger
    {
        _ = Throw.IfNull(builder);
        builder.Services.AddAccountingCore();
        builder.Services.Replace(ServiceDescriptor.Singleton<IUsageLedger, TLedger>());
        return builder;
    }

    /// <summary>Replaces the in-memory usage ledger with one made by a factory.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="factory">Creates the ledger (once; it is a singleton).</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder UseUsageLedger(this IAssistantsKitBuilder builder, Func<IServiceProvider, IUsageLedger> factory)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(factory);
        builder.Services.AddAccountingCore();
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }

    /// <summary>Adds a receiver of budget threshold alerts.</summary>
    /// <typeparam name="TSink">The sink type, created by the container as a singleton.</typeparam>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddBudgetAlertSink<TSink>(this IAssistantsKitBuilder builder)
        where TSink : class, IBudgetAlertSink
    {
        _ = Throw.IfNull(builder);
        builder.Services.AddAccountingCore();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBudgetAlertSink, TSink>());
        return builder;
    }

    /// <summary>Adds a callback for budget threshold alerts (raised once per budget, scope value, window and threshold).</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="onThreshold">The callback; an exception it throws is logged and does not fail the run.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder OnBudgetThreshold(
        this IAssistantsKitBuilder builder, Func<BudgetThresholdAlert, CancellationToken, ValueTask> onThreshold)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(onThreshold);
        builder.Services.AddAccountingCore();
        builder.Services.AddSingleton<IBudgetAlertSink>(new DelegateBudgetAlertSink(onThreshold));
        return builder;
    }
}
