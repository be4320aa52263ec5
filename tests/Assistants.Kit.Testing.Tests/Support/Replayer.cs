using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>Maps the IDs of a recording to the IDs the emulator created for the same objects.</summary>
internal sealed partial class IdMap
{
    private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);

    public string Apply(string text) => Id().Replace(text, m => _map.TryGetValue(m.Value, out var mapped) ? mapped : m.Value);

    public void Add(string recorded, string actual) => _map.TryAdd(recorded, actual);

    public string? FirstUnmapped(string text) => Id().Matches(text).Select(m => m.Value).FirstOrDefault(id => !_map.ContainsKey(id));

    /// <summary>Learns pairs by walking both documents in parallel (arrays only when both have the same length).</summary>
    public void Learn(JsonNode? recorded, JsonNode? actual)
    {
        switch (recorded)
        {
            case JsonObject r when actual is JsonObject a:
                foreach (var (key, value) in r)
                {
                    // A page's first_id / last_id are learnt through its data (lists may hold different objects).
                    if (key is not ("first_id" or "last_id") && a.TryGetPropertyValue(key, out var other))
                    {
                        Learn(value, other);
                    }
                }

                break;
            case JsonArray r when actual is JsonArray a && r.Count == a.Count:
                for (var i = 0; i < r.Count; i++)
                {
                    Learn(r[i], a[i]);
                }

                break;
            case JsonValue r when actual is JsonValue a && r.TryGetValue(out string? rs) && a.TryGetValue(out string? s):
                if (Id().IsMatch(rs) && Id().Match(rs).Value == rs && Id().IsMatch(s) && rs[..rs.IndexOf('_', StringComparison.Ordinal)] == s[..s.IndexOf('_', StringComparison.Ordinal)])
                {
                    _map.TryAdd(rs, s);
                }

                break;
        }
    }

    // Assistants IDs (24 alphanumerics), call IDs, and the Responses surface's hex IDs (resp_/msg_/fc_: 50; conv_ and conversation items: 48).
    [GeneratedRegex(@"\b(?:(?:asst|thread|msg|run|step|call)_[A-Za-z0-9]{24}|(?:resp|msg|fc|rs)_[0-9a-f]{50}|(?:conv|msg|fc)_[0-9a-f]{48})\b")]
    private static partial Regex Id();
}

/// <summary>The outcome of replaying one recorded exchange.</summary>
internal sealed record ReplayResult(RecordedExchange Recorded, string Sent, int Status, JsonNode? Json, IReadOnlyList<SseEvent>? Events, string? Skipped);

/// <summary>
/// Replays recorded exchanges in order against an emulator, mapping recorded IDs to the emulator's, and driving a
/// <see cref="FakeTimeProvider"/> so that a polled run reaches the status the recording shows before it is compared.
/// </summary>
internal sealed class Replayer
{
    private readonly AssistantsEmulator _emulator;
    private readonly FakeTimeProvider _time;
    private readonly HttpClient _http;

    public Replayer(AssistantsEmulator emulator, FakeTimeProvider time)
    {
        _emulator = emulator;
        _time = time;
        _http = new HttpClient { BaseAddress = new Uri(emulator.BaseUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "replay-key");
    }

    public IdMap Ids { get; } = new();

    /// <summary>Scripts the emulator to make, for each run, the tool calls the recording shows the real model making.</summary>
    public static void ScriptRecordedToolCalls(AssistantsEmulator emulator, IReadOnlyList<RecordedExchange> exchanges)
    {
        var runOrder = new List<string>();
        var rounds = new Dictionary<string, List<List<(string Id, string Name, string Arguments)>>>();
        foreach (var exchange in exchanges)
        {
            var runs = new List<JsonNode>();
            if (exchange.ResponseJson is { } json && (string?)json["object"] == "thread.run")
            {
                runs.Add(json);
            }

            foreach (var ev in exchange.ResponseEvents ?? [])
            {
                if (ev.Name.StartsWith("thread.run.", StringComparison.Ordinal) && !ev.Name.StartsWith("thread.run.step", StringComparison.Ordinal))
                {
                    runs.Add(ev.Json!);
                }
            }

            foreach (var run in runs)
            {
                var id = (string)run["id"]!;
                if (!runOrder.Contains(id))
                {
                    runOrder.Add(id);
                }

                if (run["required_action"]?["submit_tool_outputs"]?["tool_calls"] is JsonArray calls)
                {
                    var round = calls.Select(c => (Id: (string)c!["id"]!, Name: (string)c["function"]!["name"]!, Arguments: (string)c["function"]!["arguments"]!)).ToList();
                    var list = rounds.TryGetValue(id, out var existing) ? existing : rounds[id] = [];
                    if (!list.Exists(r => r[0].Id == round[0].Id))
                    {
                        list.Add(round);
                    }
                }
            }
        }

        for (var i = 0; i < runOrder.Count; i++)
        {
            if (rounds.TryGetValue(runOrder[i], out var runRounds))
            {
                var scripted = emulator.Script.OnRun(i + 1);
                foreach (var round in runRounds)
                {
                    scripted.CallTools(round.Select(c => (c.Name, c.Arguments)).ToArray());
                }
            }
        }
    }

    public async Task<ReplayResult> ReplayAsync(RecordedExchange exchange)
    {
        if (exchange.PathAndQuery.StartsWith("/files", StringComparison.Ordinal) || exchange.PathAndQuery.StartsWith("/vector_stores", StringComparison.Ordinal))
        {
            return new ReplayResult(exchange, "", 0, null, null, "files and vector stores are not emulated");
        }

        var path = Ids.Apply(exchange.PathAndQuery);
        if (Ids.FirstUnmapped(exchange.PathAndQuery) is { } unmapped)
        {
            return new ReplayResult(exchange, path, 0, null, null, $"addresses {unmapped}, an object the emulator did not create (a code_interpreter or file_search step)");
        }

        var body = exchange.RequestBody is null ? null : Ids.Apply(exchange.RequestBody);
        var recordedStatus = (string?)exchange.ResponseJson?["status"];
        for (var attempt = 0; ; attempt++)
        {
            var (status, text) = await SendAsync(exchange.Method, path, body, exchange.BetaHeader);
            if (exchange.ResponseEvents is not null)
            {
                var events = Recordings.ParseSse(text);
                return new ReplayResult(exchange, path, status, null, events, null);
            }

            var json = string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text);
            var isRun = (string?)exchange.ResponseJson?["object"] == "thread.run";
            if (exchange.Method == "GET" && isRun && recordedStatus is not null && (string?)json?["status"] != recordedStatus && attempt < 120)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                continue;
            }

            return new ReplayResult(exchange, path, status, json, null, null);
        }
    }

    private async Task<(int Status, string Text)> SendAsync(string method, string path, string? body, string? beta)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        request.Headers.Add("OpenAI-Beta", beta ?? "assistants=v2");
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
