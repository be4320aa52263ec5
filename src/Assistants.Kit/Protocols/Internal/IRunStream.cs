using Assistants.Kit.Streaming.Internal;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// One run followed as a stream, whatever the protocol: the protocol's half of the streamed path. The backend opens the
/// stream's segments (the run's creation, then one per tool-output submission), reads its wire updates and maps them to
/// the kit's events, and remembers what the stream showed — the run as last seen, the finished steps, the messages and
/// the text emitted per message and per tool call — so a run the engine goes on following by polling emits exactly
/// what the stream missed, nothing twice. The engine holds one loop over this seam for every protocol.
/// </summary>
/// <remarks>
/// Writes that may have landed are reconciled here, never re-sent blindly: an opening whose outcome is unknown either
/// finds what landed (returned as a snapshot, for the engine to follow by polling) or fails. A protocol that can resume a
/// broken stream (Responses: <c>starting_after</c>) does so inside <see cref="ReadAsync"/>; one that cannot (Assistants)
/// reports <see cref="Broken"/>. Errors surface as the OpenAI client's exceptions; the engine translates them. One
/// instance per run; not thread-safe.
/// </remarks>
internal interface IRunStream : IStreamMapper, IAsyncDisposable
{
    /// <summary>
    /// Gets a value indicating whether the last segment ended before the run settled (a dropped connection, an
    /// <c>error</c> event): the run, if it exists, goes on, and the engine follows it by polling.
    /// </summary>
    bool Broken { get; }

    /// <summary>
    /// Creates the run with the streaming create. Returns null when a segment is open to <see cref="ReadAsync"/>; returns
    /// the run when the request failed in a way that may have landed and the run was found by its operation ID (no
    /// stream: the engine follows it by polling). <paramref name="cancellationToken"/> also bounds reading the segment.
    /// </summary>
    Task<RunSnapshot?> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Submits one <c>requires_action</c> round's outputs with the streaming submit (Responses: the outputs are the input
    /// of the run's next response, streamed). Returns null when a segment is open to <see cref="ReadAsync"/>; returns the
    /// run as the server has it when the request failed in a way that may have landed (the outputs submitted once, never
    /// twice; no stream). <paramref name="cancellationToken"/> also bounds reading the segment.
    /// </summary>
    Task<RunSnapshot?> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the open segment's next wire update and appends the kit events it maps to (none, one or a few) to
    /// <paramref name="events"/>. Returns false once the segment ended (events may still have been appended: a stream
    /// error, the step a finished response is); then <see cref="Broken"/> says how it ended. The hot path of a stream:
    /// it allocates nothing but the events.
    /// </summary>
    ValueTask<bool> ReadAsync(List<RunStreamEvent> events);
}
