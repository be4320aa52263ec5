using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Streaming.Internal;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// A run followed as a stream on the Responses protocol: each response of the run is created in background mode with
/// <c>stream: true</c> (the first with no input, each next one with the previous round's <c>function_call_output</c>
/// items, all with the settings the run was created with), and its SSE events are mapped by
/// <see cref="ResponsesStreamMapper"/>. A stream that breaks is resumed after the last event seen
/// (<c>starting_after</c>), never by creating the response again; a segment therefore never ends broken: it ends at the
/// response's final event.
/// </summary>
internal sealed class ResponsesRunStream : MappedRunStream
{
    /// <summary>How many times one response's stream is resumed before the kit gives up on it.</summary>
    internal const int MaxResumes = 5;

    private readonly ResponsesProtocolBackend _backend;
    private readonly RunRequest _request;
    private readonly JsonObject _settings;
    private readonly ResponsesStreamMapper _mapper;
    private Stream? _body;
    private IAsyncEnumerator<SseItem<string>>? _events;
    private CancellationToken _callerToken;
    private CancellationTokenSource? _reading;
    private CancellationTokenRegistration _callerRegistration;
    private readonly Lock _announcing = new();
    private bool _announced;
    private int _resumes;

    public ResponsesRunStream(ResponsesProtocolBackend backend, RunRequest request)
        : this(backend, request, new ResponsesStreamMapper(request.ThreadId))
    {
    }

    private ResponsesRunStream(ResponsesProtocolBackend backend, RunRequest request, ResponsesStreamMapper mapper)
        : base(mapper)
    {
        _backend = backend;
        _request = request;
        _settings = ResponsesProtocolBackend.Settings(request);
        _mapper = mapper;
    }

    public override bool Broken => false;

    public override Task<RunSnapshot?> OpenAsync(CancellationToken cancellationToken) =>
        OpenResponseAsync([], cancellationToken);

    public override Task<RunSnapshot?> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken) =>
        OpenResponseAsync(ResponsesProtocolBackend.OutputItems(outputs), cancellationToken);

    public override async ValueTask<bool> ReadAsync(List<RunStreamEvent> events)
    {
        while (_events is not null)
        {
            Exception? failure = null;
            try
            {
                if (await _events.MoveNextAsync().ConfigureAwait(false))
                {
                    if (JsonNode.Parse(_events.Current.Data) is JsonObject data)
                    {
                        _mapper.Map(data, events);
                        if (!_announced && _mapper.ResponseId is not null && Announce())
                        {
                            // The response is known, and the caller has already cancelled: the reading ends here (and the
                            // engine cancels this response).
                            await _reading!.CancelAsync().ConfigureAwait(false);
                        }

                        return true;
                    }

                    continue;
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or JsonException
                || (ex is OperationCanceledException && !_callerToken.IsCancellationRequested))
            {
                failure = ex;
            }

            await CloseAsync().ConfigureAwait(false);
            if (_mapper.Finished)
            {
                // The response reached its final event. One that ended the run is its last step; one that asked for tools
                // is a step done when its outputs go in (the engine reports it then, or cancelled if the run is stopped).
                if (_mapper.Snapshot is { Status: not RunStatus.RequiresAction } ended)
                {
                    events.AddRange(_mapper.OnPolledStep(ended.AsStep()));
                }

                return false;
            }

            // The stream ended or broke before the response's final event: resume it after the last event seen.
            if (_mapper.ResponseId is not { } responseId)
            {
                _callerToken.ThrowIfCancellationRequested(); // the caller left: that, not the cut, is the outcome

                throw new AssistantsServerException(0, null, "The response stream broke before the response was announced; responses cannot be listed, so it cannot be followed.", failure);
            }

            if (++_resumes > MaxResumes)
            {
                throw new AssistantsServerException(0, null, $"The stream of response {responseId} broke {MaxResumes} times.", failure);
            }

            Start(await _backend.ResumeStreamAsync(responseId, _mapper.LastSequence, _reading!.Token).ConfigureAwait(false));
        }

        return false;
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await _callerRegistration.DisposeAsync().ConfigureAwait(false);
        _reading?.Dispose();
    }

    /// <summary>
    /// Creates the run's next response, streamed. Responses cannot be listed, so a creation that may have landed is never
    /// re-sent (the backend sends it again only when no connection was made), and never abandoned: the caller's
    /// cancellation does not cut the request nor the reading of the response's first event (only the HTTP timeouts bound
    /// them), so the kit learns the response's ID and the engine cancels that response instead of leaving an unknown one
    /// running in the conversation. After that event the caller's cancellation ends the reading at once.
    /// </summary>
    private async Task<RunSnapshot?> OpenResponseAsync(JsonArray input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested(); // nothing sent yet: a caller who left gets no new response
        _mapper.BeginResponse();
        _resumes = 0;
        await _callerRegistration.DisposeAsync().ConfigureAwait(false);
        _announced = false;
        _reading?.Dispose();
        _reading = new CancellationTokenSource();
        _callerToken = cancellationToken;
        _callerRegistration = cancellationToken.Register(static state => ((ResponsesRunStream)state!).OnCallerCancelled(), this);
        Start(await _backend.OpenStreamAsync(_settings, _request.ThreadId, input, _request.OperationId, CancellationToken.None).ConfigureAwait(false));
        return null;
    }

    /// <summary>Marks the response announced; returns whether the caller had already cancelled (then reading must end).</summary>
    private bool Announce()
    {
        lock (_announcing)
        {
            _announced = true;
            return _callerToken.IsCancellationRequested;
        }
    }

    /// <summary>The caller cancelled: reading ends now if the response is known, else once it is (see <see cref="Announce"/>).</summary>
    private void OnCallerCancelled()
    {
        bool announced;
        lock (_announcing)
        {
            announced = _announced;
        }

        if (announced)
        {
            _reading?.Cancel();
        }
    }

    private void Start(Stream body)
    {
        var token = _reading!.Token;
        _body = body;
        _events = SseParser.Create(body).EnumerateAsync(token).GetAsyncEnumerator(token);
    }

    private async ValueTask CloseAsync()
    {
        var events = _events;
        var body = _body;
        _events = null;
        _body = null;
        if (events is not null)
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }

        if (body is not null)
        {
            await body.DisposeAsync().ConfigureAwait(false);
        }
    }
}
