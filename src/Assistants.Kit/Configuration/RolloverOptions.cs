namespace Assistants.Kit;

/// <summary>
/// Rolling a conversation over to a new thread under context pressure, instead of letting the server silently forget
/// earlier context: the old thread is summarised, a new thread is seeded with the summary, and the binding moves to it
/// (the old thread ID is kept in <see cref="ConversationBinding.PreviousThreadIds"/>).
/// </summary>
public sealed class RolloverOptions
{
    /// <summary>Gets or sets a value indicating whether conversations roll over. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the message count (user and assistant) at which a thread rolls over. Default: 50.</summary>
    public int MessageThreshold { get; set; } = 50;

    /// <summary>
    /// Gets or sets the share of the run's <c>max_prompt_tokens</c> that, when a run's prompt reaches it, rolls the thread
    /// over. A run that ends <c>incomplete</c> with <c>max_prompt_tokens</c> always does. Default: 0.9.
    /// </summary>
    public double PromptTokenThreshold { get; set; } = 0.9;

    /// <summary>
    /// Gets or sets the model's context window in tokens, the limit <see cref="PromptTokenThreshold"/> applies to when no
    /// <c>max_prompt_tokens</c> does (the Responses protocol, which has none, or <c>MaxPromptTokens = null</c>). Default:
    /// <see langword="null"/> — the kit uses the published input window of the run's model when it knows it
    /// (<c>gpt-4.1*</c> 1,047,576; <c>gpt-4o*</c> 128,000; <c>o1</c>, <c>o3*</c>, <c>o4-mini*</c> 200,000; <c>gpt-5*</c>
    /// 272,000; a dated snapshot such as <c>gpt-4o-2024-08-06</c> matches its family), and applies no token threshold
    /// otherwise.
    /// </summary>
    public int? ContextWindowTokens { get; set; }

    /// <summary>The published input context window of a model family, or <see langword="null"/> when the kit does not know it.</summary>
    internal static int? KnownContextWindow(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        int? best = null;
        var bestLength = 0;
        foreach (var (family, window) in KnownWindows)
        {
            var matches = model.Equals(family, StringComparison.OrdinalIgnoreCase)
                || (model.StartsWith(family, StringComparison.OrdinalIgnoreCase) && model.Length > family.Length && model[family.Length] == '-');
            if (matches && family.Length > bestLength)
            {
                (best, bestLength) = (window, family.Length);
            }
        }

        return best;
    }

    private static readonly (string Family, int Window)[] KnownWindows =
    [
        ("gpt-4.1", 1_047_576),
        ("gpt-4o", 128_000),
        ("o1", 200_000),
        ("o3", 200_000),
        ("o4-mini", 200_000),
        ("gpt-5", 272_000),
    ];

    /// <summary>Gets or sets the request the default summariser sends to the assistant on the old thread.</summary>
    public string SummaryPrompt { get; set; } =
        "Summarise our conversation so far in a few sentences: the facts, decisions and open questions someone needs to continue it. Reply with the summary only.";

    /// <summary>Gets or sets the text that introduces the summary as the new thread's first message.</summary>
    public string SummaryPreamble { get; set; } = "Summary of our earlier conversation:";
}
