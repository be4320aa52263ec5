using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>Registers accounting's defaults. Every registration is a <c>TryAdd</c>, so calling it again changes nothing.</summary>
internal static class AccountingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the accounting defaults: options (bound from <see cref="AccountingOptions.SectionName"/> when an
    /// <see cref="IConfiguration"/> is registered, and validated), the price table, the in-memory ledger, the
    /// <see cref="IRunAccounting"/> facade and vector storage accounting. Uses the registered <see cref="TimeProvider"/>,
    /// or <see cref="TimeProvider.System"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddAccountingCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<AccountingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<AccountingOptions>, ConfigureAccountingFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AccountingOptions>, AccountingOptionsValidator>());

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AccountingOptions>>().Value;
            return PriceTable.Default.WithOverrides(options.Prices, options.Tools);
        });
        services.TryAddSingleton(sp => new AccountingPrices(sp.GetRequiredService<PriceTable>(), Logger<AccountingPrices>(sp)));
        services.TryAddSingleton<IUsageLedger, InMemoryUsageLedger>();
        services.TryAddSingleton<IRunAccounting>(sp => new RunAccounting(
            sp.GetRequiredService<IOptions<AccountingOptions>>(),
            sp.GetRequiredService<AccountingPrices>(),
            sp.GetRequiredService<IUsageLedger>(),
            sp.GetServices<IBudgetAlertSink>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<IVectorStorageAccounting>(sp => new VectorStorageAccounting(
            sp.GetRequiredService<AccountingPrices>(),
            sp.GetRequiredService<IUsageLedger>(),
            Logger<VectorStorageAccounting>(sp),
            sp.GetService<TimeProvider>()));
        return services;
    }

    private static ILogger<T> Logger<T>(IServiceProvider services) =>
        (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<T>();
}

/// <summary>Binds <see cref="AccountingOptions"/> from <see cref="AccountingOptions.SectionName"/> when configuration is registered.</summary>
internal sealed class ConfigureAccountingFromConfiguration(IServiceProvider services) : IConfigureOptions<AccountingOptions>
{
    public void Configure(AccountingOptions options)
    {
        if (services.GetService<IConfiguration>() is { } configuration)
        {
            configuration.GetSection(AccountingOptions.SectionName).Bind(options);
        }
    }
}

/// <summary>An alert sink over a delegate.</summary>
internal sealed class DelegateBudgetAlertSink(Func<BudgetThresholdAlert, CancellationToken, ValueTask> handler) : IBudgetAlertSink
{
    public ValueTask OnThresholdReachedAsync(BudgetThresholdAlert alert, CancellationToken cancellationToken) =>
        handler(alert, cancellationToken);
}
