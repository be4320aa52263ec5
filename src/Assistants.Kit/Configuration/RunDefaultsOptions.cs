namespace Assistants.Kit;

/// <summary>
/// Limits and settings sent with every run unless the run overrides them. Setting them on every run keeps a long
/// conversation from silently growing its cost (every earlier message is re-read on each run).
/// </summary>
public sealed class RunDefaultsOptions
{
    /// <summary>
    /// Gets or sets the maximum completion tokens per run (<c>max_completion_tokens</c>; on the Responses protocol
    /// <c>max_output_tokens</c>, which limits each response of the run); <see langword="null"/> = server default. Default: 4,096.
    /// </summary>
    public int? MaxCompletionTokens { get; set; } = 4096;

    /// <summary>
    /// Gets or sets the maximum prompt tokens per run (<c>max_prompt_tokens</c>); <see langword="null"/> = server default.
    /// Default: 32,768. The Responses protocol has no equivalent: there it is not sent (a budget's worst case still uses it).
    /// </summary>
    public int? MaxPromptTokens { get; set; } = 32_768;

    /// <summary>
    /// Gets or sets the truncation strategy: the number of most recent messages the model sees
    /// (<c>truncation_strategy: last_messages</c>); <see langword="null"/> = the server's <c>auto</c>. Default: <see langword="null"/>.
    /// The Responses protocol has no equivalent: setting it there fails validation at startup.
    /// </summary>
    public int? TruncationLastMessages { get; set; }

    /// <summary>Gets or sets whether the model may call several tools at once (<c>parallel_tool_calls</c>); <see langword="null"/> = server default (true).</summary>
    public bool? ParallelToolCalls { get; set; }
}
