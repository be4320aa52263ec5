using System.ClientModel;
using System.Text.RegularExpressions;
using Assistants.Kit.Streaming.Internal;
using OpenAI.Assistants;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// A run followed as a stream on the Assistants protocol: the official client's streaming create and streaming submit
/// (SSE parsed by the client into <see cref="StreamingUpdate"/>s), mapped by <see cref="StreamingUpdateMapper"/>. A
/// broken stream cannot be resumed on this protocol: <see cref="Broken"/> tells the engine to follow the run by polling.
/// </summary>
internal sealed partial class AssistantsRunStream : MappedRunStream
{
    private readonly AssistantsProtocolBackend _backend;
    private readonly RunRequest _request;
    private readonly StreamingUpdateMapper _mapper;
    private AsyncStreamingResult<StreamingUpdate>? _stream;
    private IAsyncEnumerator<StreamingUpdate>? _updates;
    private CancellationToken _cancellationToken;
    private bool _broken;

    public AssistantsRunStream(AssistantsProtocolBackend backend, RunRequest request)
        : this(backend, request, new StreamingUpdateMapper(request.ThreadId))
    {
    }

    private AssistantsRunStream(AssistantsProtocolBackend backend, RunRequest request, StreamingUpdateMapper mapper)
        : base(mapper)
    {
        _backend = backend;
        _request = request;
        _mapper = mapper;
    }

    public override bool Broken => _broken;

    public override async Task<RunSnapshot?> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            Start(await _backend.CreateRunStreamAsync(_request, cancellationToken).ConfigureAwait(false), cancellationToken);
            return null;
        }
        catch (Exception ex) when (IsOpenFailure(ex, cancellationToken) && WriteReconciler.IsAmbiguous(ex, cancellationToken))
        {
            // Nothing was read: the run may or may not exist. Find it by the operation ID; never create it twice.
        }

        if (await _backend.FindRunByOperationAsync(_request.ThreadId, _request.OperationId, cancellationToken).ConfigureAwait(false) is { } found)
        {
            return found;
        }

        Start(await _backend.CreateRunStreamAsync(_request, cancellationToken).ConfigureAwait(false), cancellationToken);
        return null;
    }

    public override async Task<RunSnapshot?> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken)
    {
        _mapper.BeginSubmitStream();
        try
        {
            Start(await _backend.SubmitToolOutputsStreamAsync(run.ThreadId, run.Id, outputs, cancellationToken).ConfigureAwait(false), cancellationToken);
            return null;
        }
        catch (Exception ex) when (IsOpenFailure(ex, cancellationToken) && WriteReconciler.IsAmbiguous(ex, cancellationToken))
        {
            // It may have landed: submit again (polled) only when the run still waits for exactly these calls; otherwise
            // the run moved on and is followed from where it is.
        }

        var current = await _backend.GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
        var waitingForSame = current.Status == RunStatus.RequiresAction
            && current.RequiredToolCalls.Select(c => c.ToolCallId).ToHashSet(StringComparer.Ordinal).SetEquals(outputs.Select(o => o.Key));
        return waitingForSame
            ? await _backend.SubmitToolOutputsAsync(run.ThreadId, run.Id, outputs, cancellationToken).ConfigureAwait(false)
            : current;
    }

    public override async ValueTask<bool> ReadAsync(List<RunStreamEvent> events)
    {
        if (_updates is null)
        {
            return false;
        }

        try
        {
            if (!await _updates.MoveNextAsync().ConfigureAwait(false))
            {
                await CloseAsync().ConfigureAwait(false);
                if (_mapper.LastRun is { Status: RunStatus.RequiresAction } waiting && _mapper.RequiredCalls.Count > 0)
                {
                    // One update per call: the round is every call the stream asked for.
                    _mapper.Follow(waiting with { RequiredToolCalls = [.. _mapper.RequiredCalls] });
                }

                return false;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_cancellationToken.IsCancellationRequested)
        {
            // A dropped connection (an I/O exception) or an error event (a ClientResultException): either way this
            // enumerator is finished; the run, if it exists, goes on.
            _broken = true;
            if (ex is ClientResultException sseError && ParseStreamError(sseError) is { } parsed)
            {
                events.Add(new RunErrorEvent(_request.ThreadId, _mapper.RunId, parsed.Code, parsed.Message));
            }

            await CloseAsync().ConfigureAwait(false);
            return false;
        }

        _mapper.Map(_updates.Current, events);
        return true;
    }

    public override ValueTask DisposeAsync() => CloseAsync();

    /// <summary>
    /// The OpenAI client surfaces an SSE <c>error</c> event as a <c>ClientResultException</c> without a status, whose
    /// message is <c>Streaming error ({type}: {code})</c>, a blank line, and the server's message. Returns the code and
    /// the server's message; null when the exception is not a stream error (a transport failure).
    /// </summary>
    internal static (string? Code, string Message)? ParseStreamError(ClientResultException exception)
    {
        var match = StreamErrorPattern().Match(exception.Message);
        if (!match.Success)
        {
            return exception.Status == 0 ? null : (null, exception.Message);
        }

        var code = match.Groups["code"].Value.Trim();
        var text = match.Groups["message"].Value.Trim();
        return (code is { Length: > 0 } and not "null" ? code : null, text.Length > 0 ? text : exception.Message);
    }

    /// <summary>A failure to open a stream (nothing read yet), as opposed to the caller's cancellation.</summary>
    private static bool IsOpenFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is ClientResultException or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private void Start(AsyncStreamingResult<StreamingUpdate> stream, CancellationToken cancellationToken)
    {
        _broken = false;
        _stream = stream;
        _cancellationToken = cancellationToken;
        _updates = ((IAsyncEnumerable<StreamingUpdate>)stream).GetAsyncEnumerator(cancellationToken);
    }

    private async ValueTask CloseAsync()
    {
        var updates = _updates;
        var stream = _stream;
        _updates = null;
        _stream = null;
        if (updates is not null)
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }

        if (stream is not null)
        {
            await ((IAsyncDisposable)stream).DisposeAsync().ConfigureAwait(false);
        }
    }

    [GeneratedRegex(@"^Streaming error \((?<type>[^:)]*):\s*(?<code>[^)]*)\)(?<message>[\s\S]*)$")]
    private static partial Regex StreamErrorPattern();
}
