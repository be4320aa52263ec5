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

    /// <inheritdoc />
    public override string ToString() =>
        $"input={InputTokens} cached={CachedInputTokens} output={OutputTokens} reasoning={ReasoningTokens} total={TotalTokens}";
}
