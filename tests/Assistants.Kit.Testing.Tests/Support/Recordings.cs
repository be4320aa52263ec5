using System.Text;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>One recorded HTTP exchange: the request (path below /v1 with query) and the response (JSON or SSE events).</summary>
internal sealed record RecordedExchange(
    string Method,
    string PathAndQuery,
    string? RequestBody,
    string? BetaHeader,
    int Status,
    JsonNode? ResponseJson,
    IReadOnlyList<SseEvent>? ResponseEvents)
{
    public string Describe => $"{Method} {PathAndQuery}";
}

internal sealed record SseEvent(string Name, string Data)
{
    public JsonNode? Json => Data == "[DONE]" ? null : JsonNode.Parse(Data);
}

/// <summary>Reads the recorded traffic shipped in the test output's Fixtures folder.</summary>
internal static class Recordings
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded");

    public static string DotnetSessionPath(string name, string suite = "AssistantsTests") => Path.Combine(Root, "openai-dotnet", suite, name + ".json");

    public static IEnumerable<string> DotnetSessionNames(string suite = "AssistantsTests") =>
        Directory.GetFiles(Path.Combine(Root, "openai-dotnet", suite), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    /// <summary>An openai-dotnet session record: <c>{"Entries":[{RequestUri, RequestMethod, RequestHeaders, RequestBody, StatusCode, ResponseHeaders, ResponseBody}]}</c>.</summary>
    public static IReadOnlyList<RecordedExchange> DotnetSession(string name, string suite = "AssistantsTests")
    {
        var root = JsonNode.Parse(File.ReadAllText(DotnetSessionPath(name, suite)))!;
        var result = new List<RecordedExchange>();
        foreach (var entry in root["Entries"]!.AsArray())
        {
            var uri = new Uri(entry!["RequestUri"]!.GetValue<string>());
            var path = uri.AbsolutePath;
            path = path.StartsWith("/v1", StringComparison.Ordinal) ? path[3..] : path;
            var requestBody = entry["RequestBody"] is { } rb ? rb.ToJsonString() : null;
            var beta = entry["RequestHeaders"]?["OpenAI-Beta"]?.GetValue<string>();
            var responseBody = entry["ResponseBody"];
            IReadOnlyList<SseEvent>? events = null;
            JsonNode? json = null;
            if (responseBody is JsonArray lines && lines.All(l => l is JsonValue))
            {
                events = ParseSse(string.Concat(lines.Select(l => l!.GetValue<string>())));
            }
            else
            {
                json = responseBody?.DeepClone();
            }

            result.Add(new RecordedExchange(
                entry["RequestMethod"]!.GetValue<string>(),
                path + uri.Query,
                requestBody,
                beta,
                entry["StatusCode"]!.GetValue<int>(),
                json,
                events));
        }

        return result;
    }

    public static IReadOnlyList<SseEvent> SseFile(string name) => ParseSse(File.ReadAllText(Path.Combine(Root, "sse", name)));

    public static IReadOnlyList<SseEvent> ParseSse(string text)
    {
        var events = new List<SseEvent>();
        foreach (var block in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Append(line["data:".Length..].TrimStart());
                }
            }

            if (name is not null)
            {
                events.Add(new SseEvent(name, data.ToString()));
            }
        }

        return events;
    }

    /// <summary>
    /// Reads a ruby-openai VCR cassette. Only the shape these cassettes use is supported: request bodies as single-quoted
    /// scalars, response bodies as single-quoted or block (<c>|-</c>, <c>|+</c>) scalars.
    /// </summary>
    public static IReadOnlyList<RecordedExchange> Cassette(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "ruby-openai", "cassettes", name + ".yml"));
        var result = new List<RecordedExchange>();
        string? method = null, uri = null, requestBody = null, beta = null;
        int status = 0;
        string? section = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (line.StartsWith("- request:", StringComparison.Ordinal))
            {
                section = "request";
                method = uri = requestBody = beta = null;
                status = 0;
            }
            else if (line.StartsWith("  response:", StringComparison.Ordinal))
            {
                section = "response";
            }
            else if (section == "request" && trimmed.StartsWith("method:", StringComparison.Ordinal))
            {
                method = trimmed["method:".Length..].Trim().ToUpperInvariant();
            }
            else if (section == "request" && trimmed.StartsWith("uri:", StringComparison.Ordinal))
            {
                uri = trimmed["uri:".Length..].Trim();
            }
            else if (trimmed == "Openai-Beta:")
            {
                beta = lines[i + 1].Trim().TrimStart('-').Trim();
            }
            else if (section == "response" && trimmed.StartsWith("code:", StringComparison.Ordinal))
            {
                status = int.Parse(trimmed["code:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (trimmed.StartsWith("string:", StringComparison.Ordinal))
            {
                var (value, next) = ReadScalar(lines, i);
                i = next;
                if (section == "request")
                {
                    requestBody = value;
                }
                else
                {
                    var parsed = new Uri(uri!);
                    var path = parsed.AbsolutePath.StartsWith("/v1", StringComparison.Ordinal) ? parsed.AbsolutePath[3..] : parsed.AbsolutePath;
                    var isSse = value.StartsWith("event:", StringComparison.Ordinal);
                    result.Add(new RecordedExchange(
                        method!,
                        path + parsed.Query,
                        string.IsNullOrEmpty(requestBody) ? null : requestBody,
                        beta,
                        status,
                        isSse || string.IsNullOrWhiteSpace(value) ? null : JsonNode.Parse(value),
                        isSse ? ParseSse(value) : null));
                    section = null;
                }
            }
        }

        return result;
    }

    private static (string Value, int LastLine) ReadScalar(string[] lines, int index)
    {
        var line = lines[index];
        var rest = line[(line.IndexOf("string:", StringComparison.Ordinal) + "string:".Length)..].Trim();
        if (rest.StartsWith('\''))
        {
            var text = new StringBuilder(rest[1..]);
            var i = index;
            while (!EndsQuoted(text.ToString()))
            {
                i++;
                text.Append(' ').Append(lines[i].Trim());
            }

            var s = text.ToString();
            return (s[..^1].Replace("''", "'", StringComparison.Ordinal), i);
        }

        if (rest.StartsWith('|'))
        {
            var indent = lines[index].IndexOf("string:", StringComparison.Ordinal) + 2;
            var body = new StringBuilder();
            var i = index + 1;
            for (; i < lines.Length; i++)
            {
                var current = lines[i];
                if (current.Trim().Length > 0 && (current.Length - current.TrimStart().Length) < indent)
                {
                    break;
                }

                body.Append(current.Length >= indent ? current[indent..] : "").Append('\n');
            }

            var value = body.ToString();
            return (rest == "|+" ? value : value.TrimEnd('\n'), i - 1);
        }

        return (rest, index);
    }

    private static bool EndsQuoted(string text)
    {
        if (!text.EndsWith('\''))
        {
            return false;
        }

        var quotes = text.Length - text.TrimEnd('\'').Length;
        return quotes % 2 == 1;
    }
}
