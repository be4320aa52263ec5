using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Protocols.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Runs.Internal;

/// <summary>Context pressure and thread rollover.</summary>
internal sealed partial class RunEngine
{
    /// <summary>
    /// The prompt-token limit the rollover threshold applies to: the run's <c>max_prompt_tokens</c> (Assistants), else the
    /// configured context window, else the run's model's known window; <see langword="null"/> when none is known.
    /// </summary>
    private int? PromptLimit(RunOptions? runOptions)
    {
        var sent = _backend.Protocol == AssistantsProtocol.Assistants
            ? runOptions?.MaxPromptTokens ?? _options.RunDefaults.MaxPromptTokens
            : null;
        if (sent is { } limit)
        {
            return limit;
        }

        var definition = runOptions?.Assistant ?? _options.Assistant;
        var model = NonEmpty(runOptions?.Model) ?? NonEmpty(definition.Model) ?? _options.DefaultModel;
        return _options.Rollover.ContextWindowTokens ?? RolloverOptions.KnownContextWindow(model);
    }

    /// <summary>
    /// After a run: when the thread holds <see cref="RolloverOptions.MessageThreshold"/> messages, or the run's prompt
    /// reached <see cref="RolloverOptions.PromptTokenThreshold"/> of its prompt limit (see <see cref="PromptLimit"/>), or it ended
    /// incomplete for <c>max_prompt_tokens</c>: raise the context-pressure event and (when enabled) roll the conversation
    /// over to a new thread seeded with a summary, moving the binding atomically (optimistic concurrency).
    /// </summary>
    internal async Task RollOverIfNeededAsync(string conversationKey, RunResult? result, RunOptions? runOptions, CancellationToken cancellationToken)
    {
        if (result is null)
        {
            return;
        }

        var binding = await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
        if (binding is null || binding.ThreadId != result.ThreadId || binding.Journal is not null)
        {
            return;
        }

        var rollover = _options.Rollover;
        var maxPrompt = PromptLimit(runOptions);
        string? reason = null;
        if (result.Status == RunStatus.Incomplete && result.IncompleteReason == "max_prompt_tokens")
        {
            reason = "max_prompt_tokens";
        }
        else if (maxPrompt is { } max && result.Usage is { } usage && usage.InputTokens >= rollover.PromptTokenThreshold * max)
        {
            reason = "prompt_tokens";
        }
        else if (binding.MessageCount >= rollover.MessageThreshold)
        {
            reason = "message_count";
        }

        if (reason is null)
        {
            return;
        }

        await _observers.ContextPressureAsync(
            new ContextPressureEvent(conversationKey, _backend.Protocol, binding.ThreadId, reason, binding.MessageCount, result.Usage?.InputTokens),
            cancellationToken).ConfigureAwait(false);
        if (!rollover.Enabled)
        {
            return;
        }

        var summarizer = _services.GetService<IConversationSummarizer>();
        var request = new ConversationSummaryRequest(conversationKey, _backend.Protocol, binding.ThreadId, reason);
        var summary = summarizer is not null
            ? await summarizer.SummarizeAsync(request, cancellationToken).ConfigureAwait(false)
            : await SummarizeWithAssistantAsync(request, cancellationToken).ConfigureAwait(false);
        var newThread = await Translate(() => _backend.CreateSeededThreadAsync($"{rollover.SummaryPreamble}\n{summary}", cancellationToken)).ConfigureAwait(false);

        var moved = await UpdateBindingAsync(conversationKey, b => b.ThreadId != binding.ThreadId ? b : b with
        {
            ThreadId = newThread,
            PreviousThreadIds = [.. b.PreviousThreadIds, b.ThreadId],
            MessageCount = 1,
            ActiveRunId = null,
            ActiveRunStatus = null,
            PendingToolCalls = [],
        }, cancellationToken).ConfigureAwait(false);
        if (moved?.ThreadId == newThread)
        {
            KitLog.RolledOver(_logger, conversationKey, binding.ThreadId, newThread, reason);
            await _observers.ThreadRolledOverAsync(
                new ConversationThreadEvent(conversationKey, _backend.Protocol, newThread, binding.ThreadId, "rollover"),
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The default summariser: one run on the old thread asking the assistant for a summary (no tools).</summary>
    private async Task<string> SummarizeWithAssistantAsync(ConversationSummaryRequest request, CancellationToken cancellationToken)
    {
        var assistant = await _ensurer.EnsureAsync(_options.Assistant, cancellationToken).ConfigureAwait(false);
        var context = NewContext(null, request.ThreadId, assistant, null, new RunOptions { ToolNames = [] });
        var message = await Translate(() => _backend.AddUserMessageAsync(request.ThreadId, _options.Rollover.SummaryPrompt, WriteReconciler.NewOperationId(), cancellationToken)).ConfigureAwait(false);
        context = NewContext(null, request.ThreadId, assistant, message.Id, new RunOptions { ToolNames = [] });
        var run = await Translate(() => _backend.CreateRunAsync(BuildRunRequest(context, assistant), cancellationToken)).ConfigureAwait(false);
        var operation = new RunOperation(this, context, run);
        var settled = await Translate(() => PollUntilSettledAsync(operation, cancellationToken)).ConfigureAwait(false);
        var messages = await Translate(() => _backend.GetRunMessagesAsync(settled.ThreadId, settled.Id, message.Id, cancellationToken)).ConfigureAwait(false);
        return string.Join("\n", messages.Select(m => m.Text));
    }
}
