namespace Assistants.Kit.Accounting.Internal;

/// <summary>
/// The seam between the run engine and accounting. The engine calls <see cref="BeginRunAsync"/> before it sends
/// anything; a <see cref="BudgetExceededException"/> means nothing may be sent. It then reports the thread and run,
/// every step, and finally <see cref="RunAccountingSession.CompleteAsync"/>; it always disposes the session.
/// </summary>
internal interface IRunAccounting
{
    /// <summary>
    /// Checks the budgets that apply to the run and reserves its worst case. Throws before anything is sent when a budget
    /// does not allow the run.
    /// </summary>
    /// <param name="context">Who runs what.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The session that accounts the run; dispose it when the run ends, however it ends.</returns>
    /// <exception cref="BudgetExceededException">A budget does not allow the run.</exception>
    ValueTask<RunAccountingSession> BeginRunAsync(RunAccountingContext context, CancellationToken cancellationToken);
}

/// <summary>Who runs what, as known before the run is created.</summary>
/// <param name="ConversationKey">The application's conversation key.</param>
/// <param name="AssistantId">The assistant ID (Assistants protocol); <see langword="null"/> on Responses.</param>
/// <param name="AssistantName">The assistant's name, when known.</param>
/// <param name="Model">
/// The model, when known before the run (a model override, or the assistant's model); it can be set later with
/// <see cref="RunAccountingSession.SetThread"/>. An unknown model reserves no currency.
/// </param>
/// <param name="Tags">Caller-defined tags (tenant, feature…); budgets of <see cref="BudgetScope.Tag"/> match on them.</param>
/// <param name="MaxPromptTokens">The run's <c>max_prompt_tokens</c>, when set.</param>
/// <param name="MaxCompletionTokens">The run's <c>max_completion_tokens</c> (or Responses <c>max_output_tokens</c>), when set.</param>
internal sealed record RunAccountingContext(
    string ConversationKey,
    string? AssistantId,
    string? AssistantName,
    string? Model,
    IReadOnlyDictionary<string, string> Tags,
    int? MaxPromptTokens,
    int? MaxCompletionTokens);

/// <summary>What the engine should do after a step.</summary>
internal enum StepBudgetDecision
{
    /// <summary>Go on.</summary>
    Continue,

    /// <summary>A budget is exhausted: cancel the run at the next boundary.</summary>
    StopAtNextBoundary,
}

/// <summary>The vector-storage side of accounting, for the part of the kit that manages vector stores.</summary>
internal interface IVectorStorageAccounting
{
    /// <summary>
    /// Reports a vector store's current <c>usage_bytes</c>. Storage is accrued from the previous report at the previous
    /// size and appended to the ledger (GB-days × the vector storage price); the first report only starts the clock.
    /// </summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="usageBytes">Its <c>usage_bytes</c> now.</param>
    /// <param name="conversationKey">The conversation the store belongs to, when it belongs to one.</param>
    /// <param name="tags">Tags to record with the storage.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the accrual is recorded.</returns>
    ValueTask ReportUsageAsync(
        string vectorStoreId,
        long usageBytes,
        string? conversationKey,
        IReadOnlyDictionary<string, string>? tags,
        CancellationToken cancellationToken);

    /// <summary>Accrues a vector store up to now and forgets it (call when it is deleted or expires).</summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the accrual is recorded.</returns>
    ValueTask StopTrackingAsync(string vectorStoreId, CancellationToken cancellationToken);
}
