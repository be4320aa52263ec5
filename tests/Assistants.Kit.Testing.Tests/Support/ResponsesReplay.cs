using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using YamlDotNet.RepresentationModel;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>Reads the Responses + Conversations recordings: agent-framework traces and pydantic-ai cassettes.</summary>
internal static class ResponsesRecordings
{
    public static string AgentFrameworkRoot => Path.Combine(Recordings.Root, "agent-framework", "ConformanceTraces");

    public static JsonNode AgentFrameworkJson(string relativePath) => JsonNode.Parse(File.ReadAllText(Path.Combine(AgentFrameworkRoot, relativePath)))!;

    public static string AgentFrameworkText(string relativePath) => File.ReadAllText(Path.Combine(AgentFrameworkRoot, relativePath));

    /// <summary>
    /// Reads a pydantic-ai VCR cassette (<c>interactions[]</c> with <c>parsed_body</c> or <c>body</c>, re-serialised by
    /// pydantic with sorted keys) into exchanges; YAML scalars become JSON values by their YAML type.
    /// </summary>
    public static IReadOnlyList<RecordedExchange> PydanticCassette(string name)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Recordings.Root, "pydantic-ai", "cassettes", name + ".yaml")))
        {
            stream.Load(reader);
        }

        var root = ToJson(stream.Documents[0].RootNode)!;
        var result = new List<RecordedExchange>();
        foreach (var interaction in root["interactions"]!.AsArray())
        {
            var request = interaction!["request"]!;
            var response = interaction["response"]!;
            var uri = new Uri(request["uri"]!.GetValue<string>());
            var path = uri.AbsolutePath.StartsWith("/v1", StringComparison.Ordinal) ? uri.AbsolutePath[3..] : uri.AbsolutePath;
            var requestBody = request["parsed_body"] is { } parsed ? parsed.ToJsonString() : (request["body"] as JsonValue)?.GetValue<string>() is { Length: > 0 } raw ? raw : null;
            var responseBody = response["parsed_body"] ?? (response["body"] is JsonValue b && b.GetValue<string>() is { Length: > 0 } text ? JsonNode.Parse(text) : null);
            result.Add(new RecordedExchange(
                request["method"]!.GetValue<string>(),
                path + uri.Query,
                requestBody,
                null,
                (int)response["status"]!["code"]!.GetValue<long>(),
                responseBody?.DeepClone(),
                null));
        }

        return result;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        return value switch
        {
            "null" or "~" or "" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            _ when value.Contains('.', StringComparison.Ordinal) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            _ => JsonValue.Create(value),
        };
    }
}

/// <summary>
/// Replays recorded Responses + Conversations exchanges in order against an emulator: recorded IDs are mapped to the
/// emulator's, and a GET of a background response is repeated (advancing the fake clock) until it reaches the recorded
/// status.
/// </summary>
internal sealed class ResponsesReplayer
{
    private readonly FakeTimeProvider _time;
    private readonly HttpClient _http;

    public ResponsesReplayer(AssistantsEmulator emulator, FakeTimeProvider time)
    {
        _time = time;
        _http = new HttpClient { BaseAddress = new Uri(emulator.BaseUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "replay-key");
    }

    public IdMap Ids { get; } = new();

    /// <summary>
    /// Scripts the emulator to make the function calls the recordings show: each <c>POST /responses</c> that does not
    /// continue a turn (no <c>function_call_output</c> in its input) starts a turn; a recorded output with function
    /// calls adds a tool round to that turn.
    /// </summary>
    public static void ScriptRecordedCalls(AssistantsEmulator emulator, IEnumerable<RecordedExchange> exchanges)
    {
        // The final output of each recorded response: from its create answer, a later GET (background), or its stream.
        var list = exchanges.ToList();
        var outputs = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        foreach (var exchange in list)
        {
            var snapshots = new List<JsonNode?> { exchange.ResponseJson };
            snapshots.AddRange((exchange.ResponseEvents ?? []).Select(e => e.Json?["response"]));
            foreach (var snapshot in snapshots)
            {
                if ((string?)snapshot?["object"] == "response" && snapshot["output"] is JsonArray { Count: > 0 } output)
                {
                    outputs[(string)snapshot["id"]!] = output;
                }
            }
        }

        var turn = 0;
        var scripted = new Dictionary<int, ScriptedRun>();
        foreach (var exchange in list.Where(e => e.Method == "POST" && e.PathAndQuery == "/responses" && e.Status == 200))
        {
            var input = exchange.RequestBody is null ? null : JsonNode.Parse(exchange.RequestBody)?["input"] as JsonArray;
            var continues = input is { Count: > 0 } && (string?)input[^1]?["type"] == "function_call_output";
            if (!continues)
            {
                turn++;
            }

            var id = (string?)exchange.ResponseJson?["id"] ?? (string?)exchange.ResponseEvents?.FirstOrDefault(e => e.Json?["response"] is not null)?.Json?["response"]?["id"];
            var output = id is not null && outputs.TryGetValue(id, out var o) ? o : null;
            var calls = output?.Where(i => (string?)i?["type"] == "function_call").Select(i => ((string)i!["name"]!, (string)i["arguments"]!)).ToArray() ?? [];
            if (calls.Length > 0)
            {
                if (!scripted.TryGetValue(turn, out var run))
                {
                    run = scripted[turn] = emulator.Script.OnRun(turn);
                }

                run.CallTools(calls);
            }
        }
    }

    public async Task<ReplayResult> ReplayAsync(RecordedExchange exchange, string? bodyOverride = null)
    {
        var path = Ids.Apply(exchange.PathAndQuery);
        var body = bodyOverride ?? (exchange.RequestBody is null ? null : Ids.Apply(exchange.RequestBody));
        var recordedStatus = (string?)exchange.ResponseJson?["status"];
        var isResponse = (string?)exchange.ResponseJson?["object"] == "response";
        for (var attempt = 0; ; attempt++)
        {
            var (status, text) = await SendAsync(exchange.Method, path, body);
            if (exchange.ResponseEvents is not null && status == 200)
            {
                return new ReplayResult(exchange, path, status, null, Recordings.ParseSse(text), null);
            }

            var json = string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text);
            if (exchange.Method == "GET" && isResponse && recordedStatus is not null && (string?)json?["status"] != recordedStatus && attempt < 60)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                continue;
            }

            return new ReplayResult(exchange, path, status, json, null, null);
        }
    }

    private async Task<(int Status, string Text)> SendAsync(string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
