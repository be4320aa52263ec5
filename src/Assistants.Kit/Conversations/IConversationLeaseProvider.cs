namespace Assistants.Kit;

/// <summary>
/// Serialises runs per conversation key across app instances: a lease with an expiry, renewed while its holder runs,
/// and a fencing token that grows with every new lease. The kit stamps the token on every store write it makes while
/// holding the lease, and durable stores reject a write whose token is older than the one stored
/// (<see cref="ConversationFencedException"/>), so a holder that lost its lease (a long pause, a partition) cannot
/// overwrite its successor's state. In one process the kit serialises without a provider; register one (e.g.
/// <c>AddRedisLeases()</c>) when several instances share conversation keys.
/// </summary>
public interface IConversationLeaseProvider
{
    /// <summary>Waits until the key's lease is acquired.</summary>
    /// <param name="conversationKey">The conversation key.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The lease; dispose it to release.</returns>
    ValueTask<IConversationLease> AcquireAsync(string conversationKey, CancellationToken cancellationToken);
}

/// <summary>A held lease on one conversation key.</summary>
public interface IConversationLease : IAsyncDisposable
{
    /// <summary>Gets the conversation key.</summary>
    string ConversationKey { get; }

    /// <summary>Gets the fencing token: larger than every token handed out before for the key.</summary>
    long FencingToken { get; }

    /// <summary>
    /// Gets a value indicating whether the lease was lost (a renewal found another owner, or no renewal was confirmed for
    /// a whole lease duration). The kit stops before its next server mutation; store writes with its token may be rejected.
    /// </summary>
    bool IsLost { get; }
}

/// <summary>
/// Thrown when a store write carries a fencing token older than the one stored: another instance took over the
/// conversation after this one's lease expired. The write was not applied.
/// </summary>
public sealed class ConversationFencedException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="ConversationFencedException"/> class.</summary>
    /// <param name="conversationKey">The conversation key.</param>
    /// <param name="fencingToken">The writer's token.</param>
    /// <param name="storedFencingToken">The token stored, or -1 when the holder found its own lease lost before writing.</param>
    public ConversationFencedException(string conversationKey, long fencingToken, long storedFencingToken)
        : base($"The write to conversation '{conversationKey}' was rejected: its fencing token {fencingToken} is older than the stored {storedFencingToken} (another instance holds the conversation's lease).")
    {
        ConversationKey = conversationKey;
        FencingToken = fencingToken;
        StoredFencingToken = storedFencingToken;
    }

    /// <summary>Gets the conversation key.</summary>
    public string ConversationKey { get; }

    /// <summary>Gets the writer's token.</summary>
    public long FencingToken { get; }

    /// <summary>Gets the token stored.</summary>
    public long StoredFencingToken { get; }
}
