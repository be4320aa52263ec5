namespace Assistants.Kit;

/// <summary>The price of a model's tokens, in US dollars per one million tokens.</summary>
/// <param name="InputPerMillion">Price of one million uncached input (prompt) tokens.</param>
/// <param name="CachedInputPerMillion">Price of one million input tokens served from the prompt cache.</param>
/// <param name="OutputPerMillion">Price of one million output (completion) tokens, reasoning tokens included.</param>
public sealed record ModelPrice(decimal InputPerMillion, decimal CachedInputPerMillion, decimal OutputPerMillion)
{
    private const decimal Million = 1_000_000m;

    /// <summary>
    /// Prices a usage: uncached input (<c>input - cached</c>) at <see cref="InputPerMillion"/>, cached input at
    /// <see cref="CachedInputPerMillion"/>, and all output (reasoning included) at <see cref="OutputPerMillion"/>.
    /// The result is exact (no rounding).
    /// </summary>
    /// <param name="usage">The tokens to price.</param>
    /// <returns>The cost in US dollars.</returns>
    public decimal CostOf(TokenUsage usage)
    {
        var cached = Math.Clamp(usage.CachedInputTokens, 0, Math.Max(usage.InputTokens, 0));
        var uncached = Math.Max(usage.InputTokens, 0) - cached;
        return ((uncached * InputPerMillion) + (cached * CachedInputPerMillion) + (Math.Max(usage.OutputTokens, 0) * OutputPerMillion)) / Million;
    }

    /// <summary>Prices the most a run can spend: every input token uncached, and every output token.</summary>
    /// <param name="maxInputTokens">The run's maximum prompt tokens.</param>
    /// <param name="maxOutputTokens">The run's maximum completion tokens.</param>
    /// <returns>The worst-case cost in US dollars.</returns>
    public decimal WorstCaseCost(long maxInputTokens, long maxOutputTokens) =>
        ((Math.Max(maxInputTokens, 0) * InputPerMillion) + (Math.Max(maxOutputTokens, 0) * OutputPerMillion)) / Million;
}

/// <summary>Fees of the built-in tools, in US dollars.</summary>
/// <param name="CodeInterpreterPerSession">Price of one code interpreter session.</param>
/// <param name="FileSearchPerThousandCalls">Price of 1,000 file search tool calls.</param>
/// <param name="VectorStoragePerGigabyteDay">Price of storing one gigabyte (10^9 bytes) in vector stores for one day.</param>
public sealed record ToolPrices(decimal CodeInterpreterPerSession, decimal FileSearchPerThousandCalls, decimal VectorStoragePerGigabyteDay)
{
    /// <summary>Bytes in the gigabyte that vector storage is priced by (10^9).</summary>
    public const long BytesPerGigabyte = 1_000_000_000;

    /// <summary>Prices code interpreter sessions.</summary>
    /// <param name="sessions">The number of sessions billed.</param>
    /// <returns>The cost in US dollars.</returns>
    public decimal CodeInterpreterCost(int sessions) => Math.Max(sessions, 0) * CodeInterpreterPerSession;

    /// <summary>Prices file search tool calls (pro rata: one call costs a thousandth of the per-1,000 price).</summary>
    /// <param name="calls">The number of file search calls.</param>
    /// <returns>The cost in US dollars.</returns>
    public decimal FileSearchCost(long calls) => Math.Max(calls, 0) * FileSearchPerThousandCalls / 1000m;

    /// <summary>Gets the gigabyte-days of keeping <paramref name="usageBytes"/> stored for <paramref name="duration"/>.</summary>
    /// <param name="usageBytes">A vector store's <c>usage_bytes</c>.</param>
    /// <param name="duration">How long it was stored at that size.</param>
    /// <returns>The gigabyte-days.</returns>
    public static decimal GigabyteDays(long usageBytes, TimeSpan duration) =>
        usageBytes <= 0 || duration <= TimeSpan.Zero
            ? 0m
            : (decimal)usageBytes / BytesPerGigabyte * ((decimal)duration.Ticks / TimeSpan.TicksPerDay);

    /// <summary>Prices vector storage.</summary>
    /// <param name="gigabyteDays">Gigabyte-days stored (see <see cref="GigabyteDays"/>).</param>
    /// <returns>The cost in US dollars.</returns>
    public decimal VectorStorageCost(decimal gigabyteDays) => Math.Max(gigabyteDays, 0m) * VectorStoragePerGigabyteDay;
}
