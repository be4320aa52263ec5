namespace Assistants.Kit.Conversations.Internal.Stores;

/// <summary>
/// Makes the model filter of <see cref="UsageQuery"/> (case-insensitive, and matching dated snapshots) indexable. An
/// entry stores its model and its model without the date suffix with ASCII letters upper-cased. For a query model made
/// only of ASCII characters, <see cref="StringComparison.OrdinalIgnoreCase"/> equality is exactly equality of these
/// folds: no non-ASCII character upper-cases to an ASCII one under ordinal casing (the kit's tests check this on every
/// character of the runtime). A non-ASCII query model cannot use the fold; the exact comparison, which is
/// <see cref="UsageQuery.Matches"/> itself, always decides.
/// </summary>
internal static class UsageModelFold
{
    /// <summary>Upper-cases the ASCII letters of a string and leaves every other character as it is.</summary>
    public static string Fold(string value) => string.Create(value.Length, value, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            span[i] = c is >= 'a' and <= 'z' ? (char)(c - ('a' - 'A')) : c;
        }
    });

    /// <summary>Gets the fold of a model, or <see langword="null"/>.</summary>
    public static string? FoldModel(string? model) => model is null ? null : Fold(model);

    /// <summary>Gets the fold of a model without its date suffix (see <see cref="PriceTable.StripDateSuffix"/>), or <see langword="null"/>.</summary>
    public static string? FoldFamily(string? model) => model is null ? null : Fold(PriceTable.StripDateSuffix(model));

    /// <summary>Gets whether a query model can be looked up by its fold.</summary>
    public static bool IsFoldable(string model) => System.Text.Ascii.IsValid(model);

    /// <summary>Gets whether an entry's model matches a query's, by the reference semantics of <see cref="UsageQuery.Matches"/>.</summary>
    public static bool Matches(UsageQuery modelOnly, string? model) =>
        modelOnly.Matches(new UsageEntry { Timestamp = default, Model = model });
}
