using Assistants.Kit.Accounting.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tests.Accounting;

public sealed class ConfigurationTests
{
    [Fact]
    public async Task Configuration_BindsPricesAndBudgets_CodeWinsOverConfiguration()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["AssistantsKit:Accounting:TimeZoneId"] = "Europe/Berlin",
            ["AssistantsKit:Accounting:Prices:gpt-4o:Output"] = "12.5",
            ["AssistantsKit:Accounting:Prices:gpt-5.1:Input"] = "1.25",
            ["AssistantsKit:Accounting:Prices:gpt-5.1:CachedInput"] = "0.125",
            ["AssistantsKit:Accounting:Prices:gpt-5.1:Output"] = "10",
            ["AssistantsKit:Accounting:Tools:CodeInterpreterPerSession"] = "0.05",
            ["AssistantsKit:Accounting:CodeInterpreterBilling"] = "PerRun",
            ["AssistantsKit:Accounting:RefuseOnWorstCase"] = "true",
            ["AssistantsKit:Accounting:AlertThresholds:0"] = "0.5",
            ["AssistantsKit:Accounting:AlertThresholds:1"] = "0.9",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:Scope"] = "Tag",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:Tag"] = "tenant",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:Period"] = "Month",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:Unit"] = "Tokens",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:Limit"] = "5000000",
            ["AssistantsKit:Accounting:Budgets:tenant-monthly:OnExceeded"] = "LetFinish",
            ["AssistantsKit:Accounting:Budgets:daily:Limit"] = "25.50",
        };
        await using var harness = AccountingHarness.Create(o => o.Budgets["daily"].Limit = 30m, configuration);

        var options = harness.Services.GetRequiredService<IOptions<AccountingOptions>>().Value;
        Assert.Equal("Europe/Berlin", options.TimeZoneId);
        Assert.Equal(CodeInterpreterBilling.PerRun, options.CodeInterpreterBilling);
        Assert.True(options.RefuseOnWorstCase);
        Assert.Equal([0.5m, 0.9m], options.AlertThresholds);
        var tenant = options.Budgets["TENANT-MONTHLY"];
        Assert.Equal(
            (BudgetScope.Tag, "tenant", BudgetPeriod.Month, BudgetUnit.Tokens, 5_000_000m, (BudgetOverrunBehavior?)BudgetOverrunBehavior.LetFinish),
            (tenant.Scope, tenant.Tag, tenant.Period, tenant.Unit, tenant.Limit, tenant.OnExceeded));
        Assert.Equal((BudgetScope.Global, 30m), (options.Budgets["daily"].Scope, options.Budgets["daily"].Limit));

        var prices = harness.Services.GetRequiredService<PriceTable>();
        Assert.Equal(new ModelPrice(2.50m, 1.25m, 12.5m), prices.GetPrice("gpt-4o"));
        Assert.Equal(new ModelPrice(1.25m, 0.125m, 10m), prices.GetPrice("gpt-5.1-2025-11-13"));
        Assert.Equal(0.05m, prices.Tools.CodeInterpreterPerSession);

        // The recorded gpt-5.1 response, priced with the configured price.
        var summary = await harness.RunAsync(AccountingHarness.Context(model: "gpt-5.1-2025-11-13"), new TokenUsage(12724, 698, 4352, 532), new ToolUsage(true));
        Assert.Equal(0.017989m, summary.TokenCost);
        Assert.Equal(0.05m, summary.ToolCost);
    }

    [Fact]
    public void AddBudget_AndUseUsageLedger_Register()
    {
        var ledger = new InMemoryUsageLedger();
        var services = new ServiceCollection();
        services.AddAssistantsKit()
            .AddBudget("global-daily", b => b.Limit = 5m)
            .AddBudget("global-daily", b => b.Period = BudgetPeriod.Month)
            .UseUsageLedger(_ => ledger);
        using var provider = services.BuildServiceProvider();

        var budget = provider.GetRequiredService<IOptions<AccountingOptions>>().Value.Budgets["global-daily"];
        Assert.Equal((5m, BudgetPeriod.Month), (budget.Limit, budget.Period));
        Assert.Same(ledger, provider.GetRequiredService<IUsageLedger>());
    }

    [Fact]
    public void AddAccountingCore_AloneNeedsNoConfiguration_AndIsIdempotent()
    {
        var services = new ServiceCollection();
        services.AddAccountingCore();
        services.AddAccountingCore();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<RunAccounting>(provider.GetRequiredService<IRunAccounting>());
        Assert.IsType<InMemoryUsageLedger>(provider.GetRequiredService<IUsageLedger>());
        Assert.IsType<VectorStorageAccounting>(provider.GetRequiredService<IVectorStorageAccounting>());
        Assert.Same(PriceTable.Default.Source, provider.GetRequiredService<PriceTable>().Source);
        Assert.Single(services, d => d.ServiceType == typeof(IConfigureOptions<AccountingOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<AccountingOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IRunAccounting));
    }

    [Theory]
    [InlineData("AssistantsKit:Accounting:TimeZoneId", "Mars/Olympus_Mons", "'Mars/Olympus_Mons'")]
    [InlineData("AssistantsKit:Accounting:Prices:my-model:Input", "1", "Prices:my-model")]
    [InlineData("AssistantsKit:Accounting:Prices:gpt-4o:Output", "-1", "Prices:gpt-4o:Output '-1'")]
    [InlineData("AssistantsKit:Accounting:Budgets:broke:Limit", "0", "Budgets:broke:Limit '0'")]
    [InlineData("AssistantsKit:Accounting:AlertThresholds:0", "-0.5", "AlertThresholds value '-0.5'")]
    [InlineData("AssistantsKit:Accounting:CodeInterpreterSessionDuration", "00:00:00", "CodeInterpreterSessionDuration '00:00:00'")]
    public void InvalidOptions_FailValidation_NamingTheBadValue(string key, string value, string expected)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [key] = value })
            .Build());
        services.AddAccountingCore();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AccountingOptions>>().Value);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidBudgets_FailValidation()
    {
        var options = new AccountingOptions();
        options.Budgets["tagless"] = new BudgetOptions { Scope = BudgetScope.Tag, Limit = 1m };
        options.Budgets["global-with-value"] = new BudgetOptions { Scope = BudgetScope.Global, Value = "x", Limit = 1m };
        options.Budgets["fractional-tokens"] = new BudgetOptions { Unit = BudgetUnit.Tokens, Limit = 10.5m };

        var result = new AccountingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Budgets:tagless has Scope 'Tag' but no Tag name", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Budgets:global-with-value has Scope 'Global'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Budgets:fractional-tokens:Limit '10.5'", StringComparison.Ordinal));
        Assert.True(new AccountingOptionsValidator().Validate(null, new AccountingOptions()).Succeeded);
    }
}
