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

    /// <summary>Gets or sets the request the default summariser sends to the assistant on the old thread.</summary>
    public string SummaryPrompt { get; set; } =
        "Summarise our conversation so far in a few sentences: the facts, decisions and open questions someone needs to continue it. Reply with the summary only.";

    /// <summary>Gets or sets the text that introduces the summary as the new thread's first message.</summary>
    public string SummaryPreamble { get; set; } = "Summary of our earlier conversation:";
}
