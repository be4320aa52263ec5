using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Handles one HTTP request end to end: log it, apply faults, authenticate, route, run the handler, persist the state,
/// and write the JSON or SSE response (or drop the connection).
/// </summary>
internal sealed partial class EmulatorPipeline
{
    private const string ApiPrefix = "/v1";

    /// <summary>Kestrel's response buffer (set explicitly at start); <see cref="CutPadding"/> is four times as large.</summary>
    internal const int ResponseBufferSize = 64 * 1024;

    private static readonly byte[] CutPadding = Encoding.ASCII.GetBytes(":" + new string(' ', 4 * ResponseBufferSize) + "\n\n");

    private readonly AssistantsEmulatorOptions _options;
    private readonly EmulatorStore _store;
    private readonly RouteTable _routes;
    private readonly EmulatorFaults _faults;
    private readonly EmulatorRequestLog _log;
    private readonly StatePersistence? _persistence;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    public EmulatorPipeline(
        AssistantsEmulatorOptions options,
        EmulatorStore store,
        RouteTable routes,
        EmulatorFaults faults,
        EmulatorRequestLog log,
        StatePersistence? persistence,
        ILogger logger,
        CancellationToken stopping)
    {
        _options = options;
        _store = store;
        _routes = routes;
        _faults = faults;
        _log = log;
        _persistence = persistence;
        _logger = logger;
        _stopping = stopping;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method.ToUpperInvariant();
        var fullPath = request.Path.HasValue ? request.Path.Value! : "/";
        var path = fullPath == ApiPrefix || fullPath.StartsWith(ApiPrefix + "/", StringComparison.Ordinal) ? fullPath[ApiPrefix.Length..] : fullPath;
        if (path.Length == 0)
        {
            path = "/";
        }

        string body;
        byte[] rawBody;
        try
        {
            rawBody = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
            body = Encoding.UTF8.GetString(rawBody);
        }
        catch (BadHttpRequestException)
        {
            body = "";
            var tooLarge = new RecordedRequest(method, path, request.QueryString.Value ?? "", "", _options.TimeProvider.GetUtcNow());
            _log.Add(tooLarge);
            await WriteJsonAsync(context, tooLarge, new ApiResult { Status = 413, Body = ApiException.BadRequest("The request body is too large.").ToBody() }).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return;
        }

        var record = new RecordedRequest(method, path, request.QueryString.Value ?? "", body, _options.TimeProvider.GetUtcNow());
        _log.Add(record);

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping);
        var cancellation = linked.Token;
        try
        {
            var fault = _faults.Match(method, path);
            if (fault is not null)
            {
                record.Fault = fault.ToString();
                if (fault.DelayBy > TimeSpan.Zero)
                {
                    await Task.Delay(fault.DelayBy, _options.TimeProvider, cancellation).ConfigureAwait(false);
                }

                switch (fault.Action)
                {
                    case FaultAction.Respond:
                        await WriteJsonAsync(context, record, FaultResponse(fault)).ConfigureAwait(false);
                        return;
                    case FaultAction.Drop:
                        Drop(context, record);
                        return;
                }
            }

            var result = Dispatch(context, method, path, fullPath, body, rawBody);
            await PersistAsync().ConfigureAwait(false);
            if (fault?.Action == FaultAction.CommitThenDrop)
            {
                if (result.Stream is { } abandoned)
                {
                    ReleaseStream(abandoned);
                }

                record.StatusCode = result.Status;
                Drop(context, record);
                return;
            }

            if (result.Stream is { } stream)
            {
                await StreamAsync(context, record, stream, cancellation).ConfigureAwait(false);
            }
            else if (result.Pending is { } pending)
            {
                await WriteJsonAsync(context, record, await SettleAsync(pending, cancellation).ConfigureAwait(false)).ConfigureAwait(false);
            }
            else
            {
                await WriteJsonAsync(context, record, result).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            record.ConnectionDropped = true;
        }
        catch (IOException)
        {
            record.ConnectionDropped = true;
        }
    }

    /// <summary>Everything that produces the answer: authentication, the beta header, routing and the handler.</summary>
    private ApiResult Dispatch(HttpContext context, string method, string path, string fullPath, string body, byte[] rawBody)
    {
        try
        {
            Authenticate(context.Request);
            if (!fullPath.StartsWith(ApiPrefix + "/", StringComparison.Ordinal))
            {
                throw ApiException.InvalidUrl(method, fullPath);
            }

            var handler = _routes.Match(method, path, out var values, out var assistantsBeta) ?? throw ApiException.InvalidUrl(method, fullPath);
            if (assistantsBeta)
            {
                CheckBetaHeader(context.Request);
            }

            var apiRequest = new ApiRequest
            {
                Method = method,
                Path = path,
                Route = values,
                Query = context.Request.Query,
                Body = body,
                RawBody = rawBody,
                ContentType = context.Request.ContentType,
            };
            return handler(apiRequest);
        }
        catch (ApiException ex)
        {
            return new ApiResult { Status = ex.StatusCode, Body = ex.ToBody() };
        }
#pragma warning disable CA1031 // The emulator never crashes on input: anything unexpected becomes a 500 in OpenAI's envelope.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogUnexpected(_logger, method, path, ex);
            return new ApiResult
            {
                Status = 500,
                Body = ApiException.ErrorBody(
                    "The server had an error processing your request. Sorry about that! (emulator: " + ex.GetType().Name + ": " + ex.Message + ")",
                    "server_error",
                    null,
                    null),
            };
        }
    }

    private void Authenticate(HttpRequest request)
    {
        if (_options.ApiKey is not { } expected)
        {
            return;
        }

        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            throw new ApiException(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                null,
                null);
        }

        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : header.Trim();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)))
        {
            throw new ApiException(
                401,
                $"Incorrect API key provided: {MaskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                null,
                "invalid_api_key");
        }
    }

    /// <summary>Masks a key the way the real service does: the first and last few characters, stars in between.</summary>
    internal static string MaskKey(string key)
    {
        var visible = Math.Min(4, key.Length / 4);
        var head = Math.Min(8, key.Length / 4);
        if (key.Length == 0)
        {
            return "";
        }

        return key[..head] + new string('*', key.Length - head - visible) + key[^visible..];
    }

    private void CheckBetaHeader(HttpRequest request)
    {
        if (!_options.RequireBetaHeader)
        {
            return;
        }

        var beta = request.Headers["OpenAI-Beta"].ToString();
        var values = beta.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (values.Contains("assistants=v2", StringComparer.OrdinalIgnoreCase))
        {
            return;
        }

        if (values.Contains("assistants=v1", StringComparer.OrdinalIgnoreCase))
        {
            throw ApiException.BadRequest(
                "The v1 Assistants API has been deprecated. Please try again by setting the header 'OpenAI-Beta: assistants=v2'. See the migration guide for more information: https://platform.openai.com/docs/assistants/migration.",
                null,
                "invalid_beta");
        }

        throw ApiException.BadRequest(
            "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
            null,
            "invalid_beta");
    }

    private static ApiResult FaultResponse(EmulatorFault fault)
    {
        var (message, type, code) = fault.StatusCode switch
        {
            429 => ("Rate limit reached for requests. Please try again later.", "requests", (JsonNode?)"rate_limit_exceeded"),
            500 => ("The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.", "server_error", null),
            502 => ("Bad gateway.", "cf_bad_gateway", JsonValue.Create(502)),
            503 => ("The server is overloaded or not ready yet.", "server_error", null),
            _ => ("The request failed.", fault.StatusCode >= 500 ? "server_error" : "invalid_request_error", null),
        };
        var result = new ApiResult
        {
            Status = fault.StatusCode,
            Body = ApiException.ErrorBody(fault.ErrorMessage ?? message, fault.ErrorType ?? type, null, fault.ErrorCode is null ? code : JsonValue.Create(fault.ErrorCode)),
        };
        foreach (var (name, value) in fault.Headers)
        {
            result.Headers[name] = value;
        }

        return result;
    }

    /// <summary>Writes the state file when the state changed; not cancellable, so that a change the client may not see is still kept.</summary>
    private async Task PersistAsync()
    {
        if (_persistence is null)
        {
            return;
        }

        byte[] snapshot;
        long version;
        lock (_store.Sync)
        {
            version = _store.Version;
            if (version <= _persistence.WrittenVersion)
            {
                return;
            }

            snapshot = _store.Serialize();
        }

        await _persistence.WriteAsync(snapshot, version, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext context, RecordedRequest record, ApiResult result)
    {
        if (result.Content is { } content)
        {
            await WriteContentAsync(context, record, result, content).ConfigureAwait(false);
            return;
        }

        var json = (result.Body ?? new JsonObject()).ToJsonString();
        record.StatusCode = result.Status;
        record.ResponseBody = json;
        var response = context.Response;
        response.StatusCode = result.Status;
        AddStandardHeaders(response);
        foreach (var (name, value) in result.Headers)
        {
            response.Headers[name] = value;
        }

        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes a binary body (a file's content): the bytes, their type and length; the log notes the size only.</summary>
    private static async Task WriteContentAsync(HttpContext context, RecordedRequest record, ApiResult result, byte[] content)
    {
        record.StatusCode = result.Status;
        record.ResponseBody = Invariant($"({content.Length} bytes of {result.ContentType})");
        var response = context.Response;
        response.StatusCode = result.Status;
        AddStandardHeaders(response);
        response.ContentType = result.ContentType ?? "application/octet-stream";
        response.ContentLength = content.Length;
        await response.Body.WriteAsync(content, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Polls a pending result until it is ready, waiting on the emulator's clock in between.</summary>
    private async Task<ApiResult> SettleAsync(Func<DateTimeOffset, PendingStep> pending, CancellationToken cancellation)
    {
        while (true)
        {
            PendingStep step;
            DateTimeOffset now;
            lock (_store.Sync)
            {
                now = _store.Now;
                step = pending(now);
            }

            await PersistAsync().ConfigureAwait(false);
            if (step.Result is { } result)
            {
                return result;
            }

            var wait = step.WakeAt is { } wake && wake > now ? wake - now : TimeSpan.Zero;
            await Task.Delay(wait, _options.TimeProvider, cancellation).ConfigureAwait(false);
        }
    }

    private async Task StreamAsync(HttpContext context, RecordedRequest record, StreamPlan plan, CancellationToken cancellation)
    {
        var script = plan.Script;
        var sent = 0;
        record.StatusCode = 200;
        var response = context.Response;
        response.StatusCode = 200;
        AddStandardHeaders(response);
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            var pending = new List<SseEvent>(plan.Prefix);
            while (true)
            {
                StreamStep step;
                DateTimeOffset now;
                lock (_store.Sync)
                {
                    now = _store.Now;
                    step = plan.Poll(now, pending);
                }

                await PersistAsync().ConfigureAwait(false);
                foreach (var item in pending)
                {
                    if (script?.CutAfterEvents is { } cut && sent >= cut)
                    {
                        await CutAsync(context, record).ConfigureAwait(false);
                        return;
                    }

                    if (script?.StreamError is { } error && sent >= error.AfterEvents)
                    {
                        SseEvent errorEvent;
                        lock (_store.Sync)
                        {
                            errorEvent = plan.ErrorEvent(error.Code, error.Message, sent);
                        }

                        await WriteEventAsync(response, errorEvent, cancellation).ConfigureAwait(false);
                        return;
                    }

                    await WriteEventAsync(response, item, cancellation).ConfigureAwait(false);
                    sent++;
                }

                pending.Clear();
                if (step.Finished)
                {
                    if (plan.SendsDone)
                    {
                        await WriteEventAsync(response, new SseEvent("done", "[DONE]"), cancellation).ConfigureAwait(false);
                    }

                    return;
                }

                var wait = step.WakeAt is { } wake && wake > now ? wake - now : TimeSpan.Zero;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _options.TimeProvider, cancellation).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ReleaseStream(plan);
        }
    }

    private void ReleaseStream(StreamPlan plan)
    {
        lock (_store.Sync)
        {
            plan.Release();
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, SseEvent item, CancellationToken cancellation)
    {
        var bytes = Encoding.UTF8.GetBytes($"event: {item.Name}\ndata: {item.Data}\n\n");
        await response.Body.WriteAsync(bytes, cancellation).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a response that already sent data as a dropped connection would: the bytes sent so far reach the client,
    /// then the connection closes mid-response (no final chunk), so the client reads every event sent and then fails.
    /// </summary>
    /// <remarks>
    /// Throwing out of a started response makes Kestrel close the connection once everything written was sent. (Shutting
    /// the socket down under Kestrel after a grace period lost the events when the transport had not sent them yet, and
    /// an abort discards what it has not sent.)
    /// </remarks>
    private static async Task CutAsync(HttpContext context, RecordedRequest record)
    {
        record.ConnectionDropped = true;
        await context.Response.Body.WriteAsync(CutPadding).ConfigureAwait(false);
        await context.Response.Body.FlushAsync().ConfigureAwait(false);
        throw new StreamCutException();
    }

    private static void Drop(HttpContext context, RecordedRequest record)
    {
        record.ConnectionDropped = true;
        context.Abort();
    }

    private static void AddStandardHeaders(HttpResponse response)
    {
        response.Headers["openai-version"] = "2020-10-01";
        response.Headers["openai-processing-ms"] = "1";
        response.Headers["x-request-id"] = "req_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
    }

    /// <summary>The raw body (a multipart upload is binary); handlers that take JSON see it decoded as UTF-8.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "The emulator failed on {Method} {Path}; answering 500.")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, Exception exception);

    internal static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Thrown out of a started streaming response to cut it (see <c>CutAsync</c>); never logged as an error.</summary>
internal sealed class StreamCutException : Exception
{
    public StreamCutException()
        : base("The emulator cut the stream, as scripted.")
    {
    }
}

/// <summary>The logger factory the emulator's web host logs through: the caller's, without the scripted cuts.</summary>
internal sealed class StreamCutLogFilter(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filtered(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The caller owns the inner factory.
    }

    private sealed class Filtered(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is not StreamCutException)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
