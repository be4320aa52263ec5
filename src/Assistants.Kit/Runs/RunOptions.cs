namespace Assistants.Kit;

/// <summary>Per-run settings; anything left <see langword="null"/> falls back to <see cref="AssistantsKitOptions.RunDefaults"/> or the assistant.</summary>
public sealed class RunOptions
{
    /// <summary>Gets or sets the assistant to run; <see langword="null"/> uses <see cref="AssistantsKitOptions.Assistant"/>.</summary>
    public AssistantDefinition? Assistant { get; set; }

    /// <summary>Gets or sets <c>max_completion_tokens</c> for this run (Responses: <c>max_output_tokens</c> of each response).</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>Gets or sets <c>max_prompt_tokens</c> for this run (Responses: not sent, there is no equivalent).</summary>
    public int? MaxPromptTokens { get; set; }

    /// <summary>
    /// Gets or sets the <c>last_messages</c> truncation for this run. The Responses protocol has no equivalent: setting it
    /// there makes the run throw <see cref="ArgumentException"/> before anything is sent.
    /// </summary>
    public int? TruncationLastMessages { get; set; }

    /// <summary>Gets or sets <c>parallel_tool_calls</c> for this run.</summary>
    public bool? ParallelToolCalls { get; set; }

    /// <summary>Gets or sets instructions appended to the assistant's for this run only.</summary>
    public string? AdditionalInstructions { get; set; }

    /// <summary>Gets or sets a model overriding the assistant's for this run only.</summary>
    public string? Model { get; set; }

    /// <summary>Gets or sets the names of the function tools this run may call (a subset of the assistant's); <see langword="null"/> = all.</summary>
    public IList<string>? ToolNames { get; set; }

    /// <summary>
    /// Gets files attached to this run's user message, each for <c>file_search</c> and/or <c>code_interpreter</c>
    /// (Assistants protocol; upload them with <see cref="AssistantFiles"/> first).
    /// </summary>
    public IList<MessageAttachment> Attachments { get; } = new List<MessageAttachment>();

    /// <summary>Gets metadata stored on the run (the kit adds its own <c>kit_*</c> keys).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets caller-defined tags (tenant, feature…) that usage and cost are accounted under.</summary>
    public IDictionary<string, string> Tags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
