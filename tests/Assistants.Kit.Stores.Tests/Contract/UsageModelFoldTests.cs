using SqliteFold = Assistants.Kit.Conversations.Internal.Stores.UsageModelFold;
using RedisFold = Assistants.Kit.Conversations.Internal.Stores.UsageModelFold;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// The assumption that makes model queries indexable in both durable ledgers: under ordinal case-insensitive comparison
/// no non-ASCII character equals an ASCII one, so for an ASCII query model, <see cref="UsageQuery.Matches"/> equality is
/// equality of the ASCII-upper-cased folds. Checked on every character of the runtime the tests run on.
/// </summary>
public sealed class UsageModelFoldTests
{
    [Fact]
    public void NoNonAsciiCharacter_EqualsAnAsciiOne_IgnoringCase()
    {
        var ascii = Enumerable.Range(0, 128).Select(c => ((char)c).ToString()).ToArray();
        var offenders = new List<string>();
        for (var codePoint = 0x80; codePoint <= 0x10FFFF; codePoint++)
        {
            if (codePoint is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            var text = char.ConvertFromUtf32(codePoint);
            if (text.Length == 1 && ascii.Any(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase)))
            {
                offenders.Add($"U+{codePoint:X4}");
            }
        }

        Assert.Empty(offenders);
    }

    [Theory]
    [InlineData("gpt-4.1-mini-2025-04-14", "GPT-4.1-MINI-2025-04-14", "GPT-4.1-MINI")]
    [InlineData("gpt-4-0613", "GPT-4-0613", "GPT-4")]
    [InlineData(" gpt-4o-2024-08-06 ", " GPT-4O-2024-08-06 ", "GPT-4O")]
    [InlineData("modèle-été", "MODèLE-éTé", "MODèLE-éTé")]
    [InlineData("ſ-ı", "ſ-ı", "ſ-ı")]
    [InlineData("", "", "")]
    public void TheFolds_UpperCaseAsciiLettersOnly_AndStripTheDateForTheFamily(string model, string fold, string family)
    {
        Assert.Equal((fold, family), (SqliteFold.FoldModel(model), SqliteFold.FoldFamily(model)));
        Assert.Equal((fold, family), (RedisFold.FoldModel(model), RedisFold.FoldFamily(model)));
        Assert.Equal(System.Text.Ascii.IsValid(model), SqliteFold.IsFoldable(model));
    }

    [Fact]
    public void ForAsciiQueries_FoldEquality_IsExactlyTheReferenceMatch()
    {
        string[] models = ["gpt-4.1-mini-2025-04-14", "GPT-4.1-mini", "gpt-4.1-MINI-high", "gpt-4-0613", "ſ-model", "s-model", "S-MODEL-2024-01-01", "kelvin-\u212A", "kelvin-k", "ı", "i", "I", "😀"];
        string[] queries = ["gpt-4.1-mini", "GPT-4.1-MINI-2025-04-14", "gpt-4", "S-MODEL", "s-model-2024-01-01", "KELVIN-K", "I", "i"];
        foreach (var query in queries)
        {
            var reference = new UsageQuery { Model = query };
            foreach (var model in models)
            {
                var byFold = SqliteFold.FoldModel(model) == SqliteFold.Fold(query) || SqliteFold.FoldFamily(model) == SqliteFold.Fold(query);
                Assert.True(byFold == SqliteFold.Matches(reference, model), $"query '{query}', model '{model}'");
            }
        }
    }
}
