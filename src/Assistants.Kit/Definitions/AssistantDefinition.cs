namespace Assistants.Kit;

/// <summary>
/// An assistant declared in code or configuration. The kit creates it on the server on first use, finds it again by
/// its stored ID or by a hash of the definition kept in its metadata, and updates it when the definition changes
/// (see <see cref="AssistantRunner.EnsureAssistantAsync"/>).
/// </summary>
/// <remarks>Only what is set goes on the wire: an unset <see cref="Temperature"/> is not sent (o-series models reject it).</remarks>
public sealed class AssistantDefinition
{
    /// <summary>Gets or sets the assistant's name; also its identity in the kit's store. Default: <c>assistant</c>.</summary>
    public string Name { get; set; } = "assistant";

    /// <summary>Gets or sets the model; <see langword="null"/> uses <see cref="AssistantsKitOptions.DefaultModel"/>.</summary>
    public string? Model { get; set; }

    /// <summary>Gets or sets the system instructions.</summary>
    public string? Instructions { get; set; }

    /// <summary>Gets or sets a description.</summary>
    public string? Description { get; set; }

    /// <summary>Gets or sets the sampling temperature (0–2); not sent when <see langword="null"/>.</summary>
    public float? Temperature { get; set; }

    /// <summary>Gets or sets nucleus sampling (<c>top_p</c>); not sent when <see langword="null"/>.</summary>
    public float? TopP { get; set; }

    /// <summary>Gets or sets the reasoning effort for reasoning models (<c>low</c>, <c>medium</c>, <c>high</c>); not sent when <see langword="null"/>.</summary>
    public string? ReasoningEffort { get; set; }

    /// <summary>Gets or sets the response format: <c>auto</c>, <c>text</c> or <c>json_object</c>; not sent when <see langword="null"/>.</summary>
    public string? ResponseFormat { get; set; }

    /// <summary>
    /// Gets the names of the registered function tools this assistant may call. Empty means every registered tool.
    /// </summary>
    public IList<string> Tools { get; } = new List<string>();

    /// <summary>Gets or sets a value indicating whether the built-in code interpreter tool is enabled.</summary>
    public bool CodeInterpreter { get; set; }

    /// <summary>Gets or sets a value indicating whether the built-in file search tool is enabled.</summary>
    public bool FileSearch { get; set; }

    /// <summary>Gets the vector store IDs file search searches.</summary>
    public IList<string> VectorStoreIds { get; } = new List<string>();

    /// <summary>Gets metadata stored on the assistant (the kit adds its own <c>kit_*</c> keys).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
