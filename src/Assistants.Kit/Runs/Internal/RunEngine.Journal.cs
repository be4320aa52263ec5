using System.Text.Json.Nodes;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Diagnostics.Internal;

namespace Assistants.Kit.Runs.Internal;

/// <summary>Thrown by the engine's test hook to stop a run at a journaled point, as a crash would.</summary>
internal sealed class SimulatedCrashException(string point) : Exception($"Simulated crash at '{point}'.")
{
    public string Point { get; } = point;
}

/// <summary>Crash resume from the journal kept in the conversation store.</summary>
internal sealed partial class RunEngine
{
    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Gets or sets a test hook: return true for a journaled point to stop there as if the process died.</summary>
    internal Func<string, bool>? CrashAt { get; set; }

    private void CrashIf(string point)
    {
        if (CrashAt?.Invoke(point) == true)
        {
            throw new SimulatedCrashException(point);
        }
    }

    internal static string NotReexecutedOutput(string toolName) =>
        new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["type"] = "not_reexecuted",
                ["message"] = $"The call to '{toolName}' was interrupted by a restart before its output was recorded, and the tool is not idempotent, so it was not run again.",
            },
        }.ToJsonString(RelaxedJson);

    /// <summary>
    /// Resumes every run the journal shows in flight (this process's protocol): finds the user message and the run by
    /// their operation IDs instead of sending them again, submits journaled tool outputs, re-executes only idempotent
    /// tools, and waits for the runs to end.
    /// </summary>
    public async Task<IReadOnlyList<ResumedRun>> ResumeAsync(CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var binding in _store.ListAsync(_backend.Protocol, cancellationToken).ConfigureAwait(false))
        {
            if (binding.Journal is not null)
            {
                keys.Add(binding.ConversationKey);
            }
        }

        var resumed = new List<ResumedRun>();
        foreach (var key in keys)
        {
            var turn = await EnterConversationAsync(key, cancellationToken).ConfigureAwait(false);
            await using var turnDisposal = turn.ConfigureAwait(false);
            if (await ResumePendingAsync(key, cancellationToken).ConfigureAwait(false) is { } outcome)
            {
                resumed.Add(outcome);
            }
        }

        return resumed;
    }

    /// <summary>Resumes the key's journaled run, if any (the caller holds the key's turn).</summary>
    internal async Task<ResumedRun?> ResumePendingAsync(string conversationKey, CancellationToken cancellationToken)
    {
        var binding = await _store.GetAsync(conversationKey, _backend.Protocol, cancellationToken).ConfigureAwait(false);
        if (binding?.Journal is not { } journal)
        {
            return null;
        }

        KitLog.ResumingRun(_logger, conversationKey, journal.Phase.ToString(), journal.RunId ?? "(none)");
        try
        {
            var result = await Translate(() => ResumeCoreAsync(binding, journal, cancellationToken)).ConfigureAwait(false);
            return new ResumedRun(conversationKey, journal.Phase, result, null);
        }
        catch (RunFailedException ex)
        {
            return new ResumedRun(conversationKey, journal.Phase, null, ex);
        }
    }

    private async Task<RunResult> ResumeCoreAsync(ConversationBinding binding, RunJournal journal, CancellationToken cancellationToken)
    {
        var definition = journal.AssistantName is { } name && name != _options.Assistant.Name
            ? new AssistantDefinition { Name = name }
            : _options.Assistant;
        if (journal.Phase == RunJournalPhase.RunActive && journal.RunId is { } runId)
        {
            var assistant = await _ensurer.EnsureAsync(definition, cancellationToken).ConfigureAwait(false);
            var context = NewContext(binding.ConversationKey, binding.ThreadId, assistant, journal.MessageId, null);
            context.Resuming = true;
            context.RunOperationId = journal.RunOperationId;
            context.Accounting = await TryBeginAccountingAsync(binding.ConversationKey, definition, cancellationToken).ConfigureAwait(false);
            context.Accounting?.SetAssistant(assistant.Id);
            context.Accounting?.SetThread(binding.ThreadId, runId);
            var snapshot = await _backend.GetRunAsync(binding.ThreadId, runId, cancellationToken).ConfigureAwait(false);
            return await WaitCoreAsync(new RunOperation(this, context, snapshot), cancellationToken).ConfigureAwait(false);
        }

        // The message or the run may or may not have landed: PrepareAsync and CreateRunAsync look for them first.
        var prepared = await PrepareAsync(binding.ConversationKey, journal.MessageText, new RunOptions { Assistant = definition }, cancellationToken, journal).ConfigureAwait(false);
        var run = await CreateRunAsync(prepared, cancellationToken).ConfigureAwait(false);
        return await WaitCoreAsync(new RunOperation(this, prepared, run), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A resumed run was admitted before the crash: account it, but never refuse it now.</summary>
    private async Task<RunAccountingSession?> TryBeginAccountingAsync(string conversationKey, AssistantDefinition definition, CancellationToken cancellationToken)
    {
        try
        {
            return await _accounting.BeginRunAsync(
                new RunAccountingContext(conversationKey, null, definition.Name, NonEmpty(definition.Model) ?? _options.DefaultModel, new Dictionary<string, string>(), null, null),
                cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetExceededException)
        {
            return null;
        }
    }
}
