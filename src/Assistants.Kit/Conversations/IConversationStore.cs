namespace Assistants.Kit;

/// <summary>
/// Persists conversation bindings (conversation key + protocol → thread, assistant, active run…) and assistant records,
/// so a restarted process continues the same conversations. Implementations: in-memory (default), SQLite and Redis
/// (separate packages).
/// </summary>
/// <remarks>
/// Writes use optimistic concurrency: <see cref="SaveAsync"/> succeeds only when the binding's
/// <see cref="ConversationBinding.Version"/> equals the stored version (0 when none is stored), and stores it with the
/// version incremented. A lost update is always detected, never silent. Implementations must be thread-safe.
/// </remarks>
public interface IConversationStore
{
    /// <summary>Gets the binding of a conversation key under a protocol.</summary>
    /// <param name="conversationKey">The application's conversation key.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The binding, or <see langword="null"/> when the key has none.</returns>
    ValueTask<ConversationBinding?> GetAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default);

    /// <summary>Saves a binding if nobody else saved it since it was read.</summary>
    /// <param name="binding">The binding; its <see cref="ConversationBinding.Version"/> is the version it was read at (0 for new).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The stored binding, with the incremented version and the update time.</returns>
    /// <exception cref="ConversationConcurrencyException">The stored version differs.</exception>
    /// <exception cref="ConversationFencedException">The binding's fencing token is lower than the stored one.</exception>
    ValueTask<ConversationBinding> SaveAsync(ConversationBinding binding, CancellationToken cancellationToken = default);

    /// <summary>Deletes a binding.</summary>
    /// <param name="conversationKey">The application's conversation key.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns><see langword="true"/> when a binding was deleted.</returns>
    ValueTask<bool> DeleteAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default);

    /// <summary>Lists every binding, optionally of one protocol.</summary>
    /// <param name="protocol">The protocol, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The bindings.</returns>
    IAsyncEnumerable<ConversationBinding> ListAsync(AssistantsProtocol? protocol = null, CancellationToken cancellationToken = default);

    /// <summary>Gets the record of an assistant definition ensured before.</summary>
    /// <param name="name">The definition's name.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The record, or <see langword="null"/>.</returns>
    ValueTask<AssistantRecord?> GetAssistantAsync(string name, AssistantsProtocol protocol, CancellationToken cancellationToken = default);

    /// <summary>Records an assistant definition's server ID (last writer wins).</summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the record is stored.</returns>
    ValueTask SaveAssistantAsync(AssistantRecord record, CancellationToken cancellationToken = default);
}

/// <summary>Thrown when a binding was changed by someone else since it was read (optimistic concurrency).</summary>
public sealed class ConversationConcurrencyException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ConversationConcurrencyException"/> class.</summary>
    /// <param name="conversationKey">The conversation key.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="expectedVersion">The version the writer read.</param>
    /// <param name="actualVersion">The version stored (0 when none).</param>
    public ConversationConcurrencyException(string conversationKey, AssistantsProtocol protocol, long expectedVersion, long actualVersion)
        : base($"The binding of conversation '{conversationKey}' ({protocol}) was changed by another writer: expected version {expectedVersion}, stored version {actualVersion}.")
    {
        ConversationKey = conversationKey;
        Protocol = protocol;
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>Gets the conversation key.</summary>
    public string ConversationKey { get; }

    /// <summary>Gets the protocol.</summary>
    public AssistantsProtocol Protocol { get; }

    /// <summary>Gets the version the writer read.</summary>
    public long ExpectedVersion { get; }

    /// <summary>Gets the version stored.</summary>
    public long ActualVersion { get; }
}
