using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Assistants.Kit.Testing.Internal;

/// <summary>One API request as the handlers see it: the route values, the query and the (lazily parsed) JSON body.</summary>
internal sealed class ApiRequest
{
    private JsonBody? _json;

    public required string Method { get; init; }

    /// <summary>The path below <c>/v1</c>, e.g. <c>/threads/thread_abc/runs</c>.</summary>
    public required string Path { get; init; }

    public required IReadOnlyDictionary<string, string> Route { get; init; }

    public required IQueryCollection Query { get; init; }

    public required string Body { get; init; }

    /// <summary>The body's bytes (a multipart upload); <see cref="Body"/> is them decoded as UTF-8.</summary>
    public byte[] RawBody { get; init; } = [];

    /// <summary>The request's <c>Content-Type</c>.</summary>
    public string? ContentType { get; init; }

    public JsonBody Json => _json ??= JsonBody.Parse(Body);

    public string this[string routeValue] => Route[routeValue];
}

/// <summary>What a handler answers: a JSON body with a status, a stream of events, or a JSON body that is ready later.</summary>
internal sealed class ApiResult
{
    public int Status { get; init; } = 200;

    public JsonNode? Body { get; init; }

    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public StreamPlan? Stream { get; init; }

    /// <summary>A binary body (a file's content) instead of JSON.</summary>
    public byte[]? Content { get; init; }

    /// <summary>The type of <see cref="Content"/>.</summary>
    public string? ContentType { get; init; }

    /// <summary>
    /// Polled under the state lock until it returns a result: what a blocking call (a foreground response that takes
    /// <see cref="AssistantsEmulatorOptions.InProgressDuration"/>) answers once the emulator's clock got there.
    /// </summary>
    public Func<DateTimeOffset, PendingStep>? Pending { get; init; }

    public static ApiResult Ok(JsonNode body) => new() { Body = body };
}

/// <summary>One poll of a pending result: the result when it is ready, otherwise when to poll again.</summary>
internal readonly record struct PendingStep(ApiResult? Result, DateTimeOffset? WakeAt);

/// <summary>What one poll of a stream found: whether the stream ends after the events collected, and when to poll again.</summary>
internal readonly record struct StreamStep(bool Finished, DateTimeOffset? WakeAt);

/// <summary>An SSE response: optional leading events, then the events of the followed object (a run or a response).</summary>
internal abstract class StreamPlan
{
    public List<SseEvent> Prefix { get; } = [];

    /// <summary>The script of the followed run or turn (for cut streams and error events).</summary>
    public abstract ScriptedRun? Script { get; }

    /// <summary>Whether the stream ends with <c>event: done</c> / <c>data: [DONE]</c> (Assistants) or just ends (Responses).</summary>
    public abstract bool SendsDone { get; }

    /// <summary>Called under the state lock: advances the followed object to <paramref name="now"/> and adds the new events to <paramref name="into"/>.</summary>
    public abstract StreamStep Poll(DateTimeOffset now, List<SseEvent> into);

    /// <summary>Called under the state lock when the stream ends, however it ends.</summary>
    public abstract void Release();

    /// <summary>The event a scripted stream error sends after <paramref name="sent"/> events of this stream.</summary>
    public abstract SseEvent ErrorEvent(string code, string message, int sent);
}

internal delegate ApiResult ApiHandler(ApiRequest request);

/// <summary>
/// A small route table over the path below <c>/v1</c>: literal segments and <c>{name}</c> placeholders. Each API surface
/// (the Assistants v2 surface; the Responses + Conversations surface) adds its routes at start-up. A route says whether
/// it belongs to the Assistants beta (which requires <c>OpenAI-Beta: assistants=v2</c>).
/// </summary>
internal sealed class RouteTable
{
    private readonly List<(string Method, string[] Segments, ApiHandler Handler, bool AssistantsBeta)> _routes = [];

    public void Map(string method, string pattern, ApiHandler handler, bool assistantsBeta = true) =>
        _routes.Add((method, pattern.Trim('/').Split('/'), handler, assistantsBeta));

    public ApiHandler? Match(string method, string path, out Dictionary<string, string> values) => Match(method, path, out values, out _);

    public ApiHandler? Match(string method, string path, out Dictionary<string, string> values, out bool assistantsBeta)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        assistantsBeta = false;
        var segments = path.Trim('/').Split('/');
        foreach (var (routeMethod, pattern, handler, beta) in _routes)
        {
            if (!string.Equals(routeMethod, method, StringComparison.OrdinalIgnoreCase) || pattern.Length != segments.Length)
            {
                continue;
            }

            values.Clear();
            var matched = true;
            for (var i = 0; i < pattern.Length && matched; i++)
            {
                if (pattern[i].StartsWith('{'))
                {
                    if (segments[i].Length == 0)
                    {
                        matched = false;
                    }
                    else
                    {
                        values[pattern[i][1..^1]] = Uri.UnescapeDataString(segments[i]);
                    }
                }
                else
                {
                    matched = string.Equals(pattern[i], segments[i], StringComparison.Ordinal);
                }
            }

            if (matched)
            {
                assistantsBeta = beta;
                return handler;
            }
        }

        return null;
    }
}

/// <summary>Implemented by each API surface the emulator serves.</summary>
internal interface IApiSurface
{
    void Register(RouteTable routes);
}
