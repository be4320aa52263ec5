namespace Assistants.Kit;

/// <summary>
/// Produces the summary a conversation is rolled over with (see <see cref="RolloverOptions"/>). The default asks the
/// assistant itself on the old thread; register your own with <c>builder.Services.AddSingleton&lt;IConversationSummarizer, T&gt;()</c>.
/// </summary>
public interface IConversationSummarizer
{
    /// <summary>Summarises a thread that is about to be rolled over.</summary>
    /// <param name="request">What to summarise, and why.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The summary text.</returns>
    Task<string> SummarizeAsync(ConversationSummaryRequest request, CancellationToken cancellationToken);
}

/// <summary>A request to summarise a thread before it is rolled over.</summary>
/// <param name="ConversationKey">The conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation) to summarise.</param>
/// <param name="Reason">Why it rolls over: <c>message_count</c>, <c>prompt_tokens</c> or <c>max_prompt_tokens</c>.</param>
public sealed record ConversationSummaryRequest(string ConversationKey, AssistantsProtocol Protocol, string ThreadId, string Reason);

/// <summary>A conversation is under context pressure.</summary>
/// <param name="ConversationKey">The conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation).</param>
/// <param name="Reason">Why: <c>message_count</c>, <c>prompt_tokens</c> or <c>max_prompt_tokens</c>.</param>
/// <param name="MessageCount">The thread's message count.</param>
/// <param name="PromptTokens">The last run's prompt tokens, when known.</param>
public sealed record ContextPressureEvent(string ConversationKey, AssistantsProtocol Protocol, string ThreadId, string Reason, int MessageCount, long? PromptTokens);
