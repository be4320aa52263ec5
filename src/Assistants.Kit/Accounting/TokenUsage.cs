using System.Text.Json;

namespace Assistants.Kit;

/// <summary>
/// Token counts of a run, a run step, or an accumulation of them. Cached input tokens are part of
/// <see cref="InputTokens"/>, reasoning tokens part of <see cref="OutputTokens"/>, as the service reports them.
/// </summary>
/// <param name="InputTokens">Prompt (input) tokens, including <paramref name="CachedInputTokens"/>.</param>
/// <param name="OutputTokens">Completion (output) tokens, including <paramref name="ReasoningTokens"/>.</param>
/// <param name="CachedInputTokens">Input tokens served from the prompt cache (0 when the service did not report them).</param>
/// <param name="ReasoningTokens">Output tokens spent on reasoning (0 when the service did not report them).</param>
public readonly record struct TokenUsage(long InputTokens, long OutputTokens, long CachedInputTokens = 0, long ReasoningTokens = 0)
{
    /// <summary>Gets an empty usage.</summary>
    public static TokenUsage Zero => default;

    /// <summary>Gets the total of input and output tokens.</summary>
    public long TotalTokens => InputTokens + OutputTokens;

    /// <summary>Adds two usages component by component.</summary>
    /// <param name="left">The first usage.</param>
    /// <param name="right">The second usage.</param>
    /// <returns>The sum.</returns>
    public static TokenUsage operator +(TokenUsage left, TokenUsage right) => new(
        left.InputTokens + right.InputTokens,
        left.OutputTokens + right.OutputTokens,
        left.CachedInputTokens + right.CachedInputTokens,
        left.ReasoningTokens + right.ReasoningTokens);

    /// <summary>Adds two usages component by component.</summary>
    /// <param name="other">The usage to add.</param>
    /// <returns>The sum.</returns>
    public TokenUsage Add(TokenUsage other) => this + other;

    /// <summary>
    /// Reads a usage object as either protocol sends it. Assistants runs and run steps:
    /// <c>prompt_tokens</c>, <c>completion_tokens</c>, <c>prompt_token_details.cached_tokens</c> (the Assistants
    /// spelling; <c>prompt_tokens_details</c> is accepted too) and <c>completion_tokens_details.reasoning_tokens</c>.
    /// Responses: <c>input_tokens</c>, <c>output_tokens</c>, <c>input_tokens_details.cached_tokens</c> and
    /// <c>output_tokens_details.reasoning_tokens</c>. Missing details count as 0.
    /// </summary>
    /// <param name="usage">The usage JSON object (for example <c>ModelReaderWriter.Write(run.Usage)</c>).</param>
    /// <returns>The usage.</returns>
    /// <exception cref="FormatException">The JSON is not a usage object of either protocol.</exception>
    public static TokenUsage Parse(BinaryData usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        using var document = ParseDocument(usage);
        return Parse(document.RootElement);
    }

    /// <inheritdoc cref="Parse(BinaryData)"/>
    public static TokenUsage Parse(JsonElement usage) =>
        TryParse(usage, out var result)
            ? result
            : throw new FormatException(
                $"The JSON ({usage.ValueKind}) is not a usage object: expected prompt_tokens/completion_tokens (Assistants) or input_tokens/output_tokens (Responses).");

    /// <summary>Tries to read a usage object of either protocol; see <see cref="Parse(JsonElement)"/>.</summary>
    /// <param name="usage">The usage JSON object.</param>
    /// <param name="result">The usage, or <see cref="Zero"/> when the JSON is not a usage object.</param>
    /// <returns><see langword="true"/> when the JSON is a usage object of either protocol.</returns>
    public static bool TryParse(JsonElement usage, out TokenUsage result)
    {
        result = Zero;
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (TryGetCount(usage, "prompt_tokens", out var prompt) | TryGetCount(usage, "completion_tokens", out var completion))
        {
            var cached = GetNestedCount(usage, "prompt_token_details", "cached_tokens");
            if (cached == 0)
            {
                cached = GetNestedCount(usage, "prompt_tokens_details", "cached_tokens");
            }

            var reasoning = GetNestedCount(usage, "completion_tokens_details", "reasoning_tokens");
            result = new TokenUsage(prompt, completion, cached, reasoning);
            return true;
        }

        if (TryGetCount(usage, "input_tokens", out var input) | TryGetCount(usage, "output_tokens", out var output))
        {
            result = new TokenUsage(
                input,
                output,
                GetNestedCount(usage, "input_tokens_details", "cached_tokens"),
                GetNestedCount(usage, "output_tokens_details", "reasoning_tokens"));
            return true;
        }

        return false;
    }

    /// <summary>Tries to read a usage object of either protocol; see <see cref="Parse(JsonElement)"/>.</summary>
    /// <param name="usage">The usage JSON; <see langword="null"/> gives <see langword="false"/>.</param>
    /// <param name="result">The usage, or <see cref="Zero"/> when the JSON is not a usage object.</param>
    /// <returns><see langword="true"/> when the JSON is a usage object of either protocol.</returns>
    public static bool TryParse(BinaryData? usage, out TokenUsage result)
    {
        result = Zero;
        if (usage is null || usage.ToMemory().IsEmpty)
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(usage.ToMemory());
            return TryParse(document.RootElement, out result);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"input={InputTokens} cached={CachedInputTokens} output={OutputTokens} reasoning={ReasoningTokens} total={TotalTokens}";

    private static JsonDocument ParseDocument(BinaryData usage)
    {
        try
        {
            return JsonDocument.Parse(usage.ToMemory());
        }
        catch (JsonException ex)
        {
            throw new FormatException("The usage is not valid JSON.", ex);
        }
    }

    private static bool TryGetCount(JsonElement parent, string name, out long value)
    {
        value = 0;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        return element.TryGetInt64(out value);
    }

    private static long GetNestedCount(JsonElement parent, string objectName, string name) =>
        parent.TryGetProperty(objectName, out var details)
        && details.ValueKind == JsonValueKind.Object
        && TryGetCount(details, name, out var value)
            ? value
            : 0;
}
