namespace Assistants.Kit;

/// <summary>The outcome of resuming one journaled run (see <see cref="AssistantRunner.ResumeAsync"/>).</summary>
/// <param name="ConversationKey">The conversation key.</param>
/// <param name="Phase">The phase the journal showed when the process stopped.</param>
/// <param name="Result">The run's result, unless it failed.</param>
/// <param name="Failure">The failure, when the run ended <c>failed</c>.</param>
public sealed record ResumedRun(string ConversationKey, RunJournalPhase Phase, RunResult? Result, RunFailedException? Failure);
