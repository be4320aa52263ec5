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

    public JsonBody Json => _json ??= JsonBody.Parse(Body);

    public string this[string routeValue] => Route[routeValue];
}

/// <summary>What a handler answers: a JSON body with a status, or a stream of run events.</summary>
internal sealed class ApiResult
{
    public int Status { get; init; } = 200;

    public JsonNode? Body { get; init; }

    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public StreamPlan? Stream { get; init; }

    public static ApiResult Ok(JsonNode body) => new() { Body = body };
}

/// <summary>An SSE response: optional leading events, then the run's journal from <see cref="Cursor"/> on.</summary>
internal sealed class StreamPlan
{
    public required ThreadRecord Thread { get; init; }

    public required RunRecord Run { get; init; }

    public List<SseEvent> Prefix { get; } = [];

    public int Cursor { get; set; }
}

internal delegate ApiResult ApiHandler(ApiRequest request);

/// <summary>
/// A small route table over the path below <c>/v1</c>: literal segments and <c>{name}</c> placeholders. Each API surface
/// (today the Assistants v2 surface; a later Responses + Conversations surface would register <c>/responses…</c> and
/// <c>/conversations…</c> here the same way) adds its routes at start-up.
/// </summary>
internal sealed class RouteTable
{
    private readonly List<(string Method, string[] Segments, ApiHandler Handler)> _routes = [];

    public void Map(string method, string pattern, ApiHandler handler) =>
        _routes.Add((method, pattern.Trim('/').Split('/'), handler));

    public ApiHandler? Match(string method, string path, out Dictionary<string, string> values)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        var segments = path.Trim('/').Split('/');
        foreach (var (routeMethod, pattern, handler) in _routes)
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
