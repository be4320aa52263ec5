using Assistants.Kit.Accounting.Internal;

namespace Assistants.Kit.Tests.Accounting;

public sealed class PricingTests
{
    [Fact]
    public void DefaultTable_IsDatedSourcedAndCoversTheRequiredModels()
    {
        var table = PriceTable.Default;

        Assert.NotNull(table.Date);
        Assert.False(string.IsNullOrWhiteSpace(table.Source));
        foreach (var model in new[]
                 {
                     "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
                     "gpt-5", "gpt-5-mini", "gpt-5-nano",
                 })
        {
            var price = table.GetPrice(model);
            Assert.NotNull(price);
            Assert.True(price.InputPerMillion > 0 && price.OutputPerMillion > 0 && price.CachedInputPerMillion <= price.InputPerMillion, model);
        }

        Assert.Equal(new ToolPrices(0.03m, 2.50m, 0.10m), table.Tools);
    }

    [Theory]
    [InlineData("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini")]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("GPT-4O-MINI", "gpt-4o-mini")]
    [InlineData("o3-mini-2025-01-31", "o3-mini")]
    [InlineData("o3-mini", "o3-mini")]
    [InlineData("o3", "o3")]
    public void Lookup_StripsDateSuffixThenMatchesExactly(string model, string expected)
    {
        Assert.True(PriceTable.Default.TryGetPrice(model, out var price, out var matched));
        Assert.Equal(expected, matched, ignoreCase: true);
        Assert.Same(PriceTable.Default.Models[expected], price);
    }

    [Fact]
    public void Lookup_O3Mini_IsNotPricedAsO3()
    {
        var o3 = PriceTable.Default.GetPrice("o3")!;
        var o3Mini = PriceTable.Default.GetPrice("o3-mini")!;

        Assert.NotEqual(o3, o3Mini);
        Assert.Equal(new ModelPrice(1.10m, 0.55m, 4.40m), o3Mini);
        Assert.Equal(new ModelPrice(2.00m, 0.50m, 8.00m), o3);
    }

    [Theory]
    [InlineData("gpt-5.1-2025-11-13")] // the recorded model: neither gpt-5 (prefix) nor anything else
    [InlineData("gpt-4o-mini-tts")]
    [InlineData("o3-pro")]
    [InlineData("gpt-4")]
    [InlineData("my-fine-tune")]
    [InlineData("")]
    [InlineData(null)]
    public void Lookup_NeverMatchesByPrefix_UnknownIsNull(string? model)
    {
        Assert.Null(PriceTable.Default.GetPrice(model));
        Assert.Null(PriceTable.Default.CostOf(model, new TokenUsage(1000, 1000)));
    }

    [Theory]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("gpt-4-0613", "gpt-4")]
    [InlineData("gpt-3.5-turbo-0125", "gpt-3.5-turbo")]
    [InlineData("gpt-4.1-nano", "gpt-4.1-nano")]
    [InlineData("o1-preview", "o1-preview")]
    [InlineData("gpt-5-2025-13-01", "gpt-5")]
    public void StripDateSuffix_RemovesOnlyATrailingDate(string model, string expected) =>
        Assert.Equal(expected, PriceTable.StripDateSuffix(model));

    [Fact]
    public void Cost_AssistantsRecordedRun_IsExact()
    {
        // FunctionToolsWork.json: gpt-4o, 627 prompt / 34 completion, nothing cached.
        var usage = TokenUsage.Parse(UsageParsingTests.RecordedAssistantsRun().GetProperty("usage"));

        // 627 × $2.50/M + 34 × $10.00/M = $0.0015675 + $0.00034
        Assert.Equal(0.0019075m, PriceTable.Default.CostOf("gpt-4o", usage));
    }

    [Fact]
    public void Cost_ResponsesRecordedUsage_PricesCachedInputAtTheCachedRate()
    {
        // WebSearchCallWithReasoning.json: 12724 input of which 4352 cached, 698 output of which 532 reasoning.
        var usage = TokenUsage.Parse(UsageParsingTests.RecordedResponse().GetProperty("usage"));

        // gpt-4.1-mini: 8372 × 0.40 + 4352 × 0.10 + 698 × 1.60 = 3348.8 + 435.2 + 1116.8 = 4900.8 per million
        Assert.Equal(0.0049008m, PriceTable.Default.CostOf("gpt-4.1-mini", usage));

        // gpt-5: 8372 × 1.25 + 4352 × 0.125 + 698 × 10 = 10465 + 544 + 6980 = 17989 per million
        Assert.Equal(0.017989m, PriceTable.Default.CostOf("gpt-5", usage));

        // The model that was actually recorded is not in the shipped table.
        Assert.Null(PriceTable.Default.CostOf("gpt-5.1-2025-11-13", usage));
    }

    [Fact]
    public void Cost_ReasoningTokensAreBilledAsOutput_NotOnTop()
    {
        var price = new ModelPrice(1.00m, 0.50m, 4.00m);

        Assert.Equal(0.004m, price.CostOf(new TokenUsage(0, 1000, 0, 800)));
        Assert.Equal(0.0015m, price.CostOf(new TokenUsage(2000, 0, 1000, 0)));
    }

    [Fact]
    public void WorstCase_PricesAllInputUncachedAndAllOutput()
    {
        var gpt4o = PriceTable.Default.GetPrice("gpt-4o")!;

        // 100,000 × $2.50/M + 30,000 × $10/M
        Assert.Equal(0.55m, gpt4o.WorstCaseCost(100_000, 30_000));
    }

    [Fact]
    public void WithOverrides_ReplacesFieldsAndAddsModels()
    {
        var table = PriceTable.Default.WithOverrides(
            new Dictionary<string, ModelPriceOptions>
            {
                ["gpt-4o"] = new() { Output = 12m },
                ["gpt-5.1"] = new() { Input = 1.25m, CachedInput = 0.125m, Output = 10m },
                ["local-llm"] = new() { Input = 0m, Output = 0m },
            },
            new ToolPriceOptions { FileSearchPerThousandCalls = 3m });

        Assert.Equal(new ModelPrice(2.50m, 1.25m, 12m), table.GetPrice("gpt-4o"));
        Assert.Equal(new ModelPrice(1.25m, 0.125m, 10m), table.GetPrice("gpt-5.1-2025-11-13"));
        Assert.Equal(new ModelPrice(0m, 0m, 0m), table.GetPrice("local-llm"));
        Assert.Equal(new ToolPrices(0.03m, 3m, 0.10m), table.Tools);
        Assert.Equal(PriceTable.Default.Date, table.Date);
        Assert.Equal(0.017989m, table.CostOf("gpt-5.1-2025-11-13", new TokenUsage(12724, 698, 4352, 532)));

        var error = Assert.Throws<ArgumentException>(() => PriceTable.Default.WithOverrides(
            new Dictionary<string, ModelPriceOptions> { ["new-model"] = new() { Input = 1m } }));
        Assert.Contains("new-model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModel_UsageRecorded_CostNull_LoggedOncePerModel()
    {
        await using var harness = AccountingHarness.Create();

        var first = await harness.RunAsync(AccountingHarness.Context(model: "my-unpriced-model"), new TokenUsage(100, 10));
        var second = await harness.RunAsync(AccountingHarness.Context(model: "my-unpriced-model"), new TokenUsage(200, 20));
        await harness.RunAsync(AccountingHarness.Context(model: "another-unpriced"), new TokenUsage(1, 1));

        Assert.Null(first.Cost);
        Assert.Null(second.TokenCost);
        Assert.Contains("cost=unknown", second.ToString(), StringComparison.Ordinal);
        Assert.Equal(new TokenUsage(300, 30), second.ConversationTotals.Usage);
        Assert.Equal(2, second.ConversationTotals.UnpricedEntries);
        Assert.False(second.ConversationTotals.CostIsComplete);

        var unknownLogs = harness.Logs.GetSnapshot().Where(r => r.Id.Id == 3000).ToArray();
        Assert.Equal(2, unknownLogs.Length);
        Assert.Contains("my-unpriced-model", unknownLogs[0].Message, StringComparison.Ordinal);
        Assert.Contains("another-unpriced", unknownLogs[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolFees_FileSearchPerThousandCalls_AndVectorStorageGigabyteDays()
    {
        var tools = PriceTable.Default.Tools;

        Assert.Equal(2.50m, tools.FileSearchCost(1000));
        Assert.Equal(0.0075m, tools.FileSearchCost(3));
        Assert.Equal(0.03m, tools.CodeInterpreterCost(1));
        Assert.Equal(5m, ToolPrices.GigabyteDays(5_000_000_000, TimeSpan.FromDays(1)));
        Assert.Equal(0.50m, tools.VectorStorageCost(ToolPrices.GigabyteDays(5_000_000_000, TimeSpan.FromDays(1))));
        Assert.Equal(1.25m, ToolPrices.GigabyteDays(2_500_000_000, TimeSpan.FromHours(12)));

        // The seed's own prices for 10,000 file searches and 5 GB stored for a day: $25 + $0.50.
        Assert.Equal(25.50m, tools.FileSearchCost(10_000) + tools.VectorStorageCost(ToolPrices.GigabyteDays(5_000_000_000, TimeSpan.FromDays(1))));
    }
}
