namespace Assistants.Kit;

/// <summary>What happens when a message arrives for a conversation key whose previous run has not ended.</summary>
public enum ConcurrencyPolicy
{
    /// <summary>
    /// Messages wait and run in submission order, each exactly once (the default). The server would otherwise refuse
    /// the message: "Can't add messages to thread_… while a run run_… is active."
    /// </summary>
    Queue,

    /// <summary>
    /// The active run is cancelled on the server (its message stays on the thread, its caller gets a
    /// <see cref="RunStatus.Cancelled"/> result) and the new message gets its own run.
    /// </summary>
    CancelActive,
}
