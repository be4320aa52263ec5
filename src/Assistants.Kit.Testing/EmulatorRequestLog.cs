using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Internal;

namespace Assistants.Kit.Testing;

/// <summary>
/// Every request the emulator received, in arrival order, faulted and dropped ones included. A request is logged as soon
/// as it arrives and completed (status, dropped flag) before its response is sent, so the log is exact once the client
/// has seen the response (or the dropped connection).
/// </summary>
/// <remarks>
/// Paths are logged and matched <b>without</b> the <c>/v1</c> prefix (<c>/threads/thread_abc/runs</c>); a request
/// outside <c>/v1</c> keeps its full path. Patterns use <c>*</c> for exactly one path segment, e.g.
/// <c>/threads/*/runs/*/submit_tool_outputs</c>; a pattern may also be written with the <c>/v1</c> prefix.
/// </remarks>
public sealed class EmulatorRequestLog
{
    private readonly Lock _sync = new();
    private readonly List<RecordedRequest> _requests = [];

    internal EmulatorRequestLog()
    {
    }

    /// <summary>Gets a snapshot of every request logged so far (since the last <see cref="Clear"/>), oldest first.</summary>
    public IReadOnlyList<RecordedRequest> All
    {
        get
        {
            lock (_sync)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Counts the requests with this method whose path matches <paramref name="pathPattern"/>.</summary>
    /// <param name="method">The HTTP method (case-insensitive).</param>
    /// <param name="pathPattern">The path pattern, <c>*</c> matching one segment.</param>
    /// <returns>The number of matching requests.</returns>
    public int Count(string method, string pathPattern) => Where(method, pathPattern).Count;

    /// <summary>The requests with this method whose path matches <paramref name="pathPattern"/>, oldest first.</summary>
    /// <param name="method">The HTTP method (case-insensitive).</param>
    /// <param name="pathPattern">The path pattern, <c>*</c> matching one segment.</param>
    /// <returns>The matching requests.</returns>
    public IReadOnlyList<RecordedRequest> Where(string method, string pathPattern)
    {
        ArgumentNullException.ThrowIfNull(method);
        var pattern = PathPattern.Parse(pathPattern);
        return Where(r => string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase) && pattern.IsMatch(r.Path));
    }

    /// <summary>The requests <paramref name="predicate"/> selects, oldest first.</summary>
    /// <param name="predicate">The filter.</param>
    /// <returns>The matching requests.</returns>
    public IReadOnlyList<RecordedRequest> Where(Func<RecordedRequest, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return All.Where(predicate).ToList();
    }

    /// <summary>Forgets every logged request.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _requests.Clear();
        }
    }

    internal void Add(RecordedRequest request)
    {
        lock (_sync)
        {
            _requests.Add(request);
        }
    }
}

/// <summary>One request the emulator received.</summary>
public sealed class RecordedRequest
{
    private volatile int _statusCode;
    private volatile bool _connectionDropped;
    private volatile string? _responseBody;
    private volatile string? _fault;

    internal RecordedRequest(string method, string path, string query, string body, DateTimeOffset timestamp)
    {
        Method = method;
        Path = path;
        Query = query;
        Body = body;
        Timestamp = timestamp;
    }

    /// <summary>Gets the HTTP method.</summary>
    public string Method { get; }

    /// <summary>Gets the path below <c>/v1</c> (e.g. <c>/threads/thread_abc/runs</c>), or the full path outside <c>/v1</c>.</summary>
    public string Path { get; }

    /// <summary>Gets the query string, with its leading <c>?</c> (empty when there is none).</summary>
    public string Query { get; }

    /// <summary>Gets the request body as text (empty when there is none).</summary>
    public string Body { get; }

    /// <summary>Gets when the request arrived, by the emulator's <see cref="AssistantsEmulatorOptions.TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>
    /// Gets the status code of the response: the one sent, or for <see cref="EmulatorFault.CommitThenDrop"/> the one that
    /// would have been sent; 0 when the connection was dropped before any response existed.
    /// </summary>
    public int StatusCode
    {
        get => _statusCode;
        internal set => _statusCode = value;
    }

    /// <summary>Gets whether the emulator aborted the connection instead of (or while) answering.</summary>
    public bool ConnectionDropped
    {
        get => _connectionDropped;
        internal set => _connectionDropped = value;
    }

    /// <summary>Gets the JSON response body (<see langword="null"/> for streams and dropped connections).</summary>
    public string? ResponseBody
    {
        get => _responseBody;
        internal set => _responseBody = value;
    }

    /// <summary>Gets a description of the fault that was injected into this request, or <see langword="null"/>.</summary>
    public string? Fault
    {
        get => _fault;
        internal set => _fault = value;
    }

    /// <summary>Parses <see cref="Body"/> as JSON; <see langword="null"/> when it is empty or not valid JSON.</summary>
    /// <returns>The parsed body.</returns>
    public JsonNode? BodyAsJson()
    {
        if (string.IsNullOrWhiteSpace(Body))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Path}{Query} -> {StatusCode}{(ConnectionDropped ? " (dropped)" : "")}";
}
