using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Assistants.Kit.Testing.Tests.Responses;

/// <summary>
/// The Responses + Conversations surface against the real service's recorded traffic: the openai-dotnet sessions
/// (ResponsesTests, ConversationTests, ResponseStoreTests) and the pydantic-ai cassettes are replayed in order with the
/// recorded IDs mapped to the emulator's; the agent-framework traces are sent one by one after creating what they need.
/// Every answer is compared by shape (property names, JSON types, array element shapes), error bodies exactly, and SSE
/// streams by their event sequence and each event's shape. The differences tolerated are listed in <see cref="Allowances"/>.
/// </summary>
public sealed class ResponsesConformanceTests(ITestOutputHelper output)
{
    /// <summary>The documented differences between the recordings and the emulator.</summary>
    internal static readonly Allowance[] Allowances =
    [
        // Fields the service added after the 2025 recordings (every 2026 recording has them); the emulator renders the newest shape.
        new("*", "$.billing", "Added to finished REST responses in late 2025 (absent from the 2025-09/10 recordings, present in every later one)."),
        new("*", "$.completed_at", "Added in 2026; absent from the 2025 recordings."),
        new("*", "$.frequency_penalty", "Added in 2026; absent from the 2025 recordings."),
        new("*", "$.presence_penalty", "Added in 2026; absent from the 2025 recordings."),
        new("*", "$.prompt_cache_retention", "Added in late 2025; absent from the 2025-09/10 recordings."),
        new("*", "$.response.completed_at", "Stream snapshots: added in 2026 (see $.completed_at)."),
        new("*", "$.response.frequency_penalty", "Stream snapshots: added in 2026."),
        new("*", "$.response.presence_penalty", "Stream snapshots: added in 2026."),
        new("*", "$.response.prompt_cache_retention", "Stream snapshots: added in late 2025."),

        // What only some recordings carry, from features the emulator does not run.
        new("*", "$.moderation", "Only on a few 2026 responses (moderation results); the emulator does not moderate."),
        new("*", "$.tool_usage", "Only on a few 2026 responses (image generation / web search counters); hosted tools are not run."),
        new("*", "$.usage.input_tokens_details.cache_write_tokens", "Only in the newest (2026-08, gpt-5.6) recording; the emulator renders the usage shape of every other recording."),
        new("*", "$.reasoning.effort", "Reasoning models echo their default effort (\"medium\") when none was requested; the emulator knows no model defaults and echoes what was requested (null)."),
        new("*", "$.response.reasoning.effort", "Stream snapshots: see $.reasoning.effort."),
        new("*", "$.reasoning.context", "gpt-5.6 only (2026-08); reasoning is echoed as {effort, summary}."),
        new("*", "$.reasoning.mode", "gpt-5.6 only (2026-08)."),
        new("*", "$.output[*].phase", "One 2026 record adds `phase` to message items."),

        // Error texts the emulator words differently.
        new("POST /responses", "error.message.mutually_exclusive_parameters", "The recorded message is garbled upstream (\"Mutually exclusive parameters: ''. Ensure you are only providing one of: 'pre..._id' or 'conversation'.\"); the emulator names both parameters. Type, param and code are exact."),
    ];

    /// <summary>
    /// Differences due to the age of the oldest recording (pydantic-ai test_openai_responses_model_retry, 2025-03): the
    /// response object had fewer fields then. Applied to that recording only.
    /// </summary>
    internal static readonly Allowance[] Era202503 =
    [
        new("*", "$.background", "Added to responses after 2025-03."),
        new("*", "$.max_tool_calls", "Added after 2025-03."),
        new("*", "$.prompt_cache_key", "Added after 2025-03."),
        new("*", "$.safety_identifier", "Added after 2025-03."),
        new("*", "$.service_tier", "Added after 2025-03."),
        new("*", "$.top_logprobs", "Added after 2025-03."),
        new("*", "$.text.verbosity", "Added after 2025-03."),
        new("*", "$.reasoning.summary", "2025-03 had `generate_summary` (deprecated since) instead of `summary`."),
        new("*", "$.reasoning.generate_summary", "See $.reasoning.summary."),
        new("*", "$.output[*].content[*].logprobs", "output_text parts had no `logprobs` in 2025-03."),
        new("*", "$.tools[*].description", "In 2025-03 an empty description was echoed as null; every later recording echoes descriptions as given."),
    ];

    public static TheoryData<string, string> DotnetSessions()
    {
        var data = new TheoryData<string, string>();
        foreach (var suite in new[] { "ResponsesTests", "ConversationTests", "ResponseStoreTests" })
        {
            foreach (var name in Recordings.DotnetSessionNames(suite))
            {
                data.Add(suite, name);
            }
        }

        return data;
    }

    [Fact]
    public void Recordings_HoldTheExpectedSessions() => Assert.Equal(23, DotnetSessions().Count());

    [Theory]
    [MemberData(nameof(DotnetSessions))]
    public async Task RecordedDotnetSession_ReplaysWithTheRecordedShapes(string suite, string session)
    {
        var exchanges = Recordings.DotnetSession(session, suite);
        var diffs = await ReplayAsync(session, exchanges);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    public static TheoryData<string> PydanticCassettes()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Recordings.Root, "pydantic-ai", "cassettes"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PydanticCassettes))]
    public async Task RecordedPydanticCassette_ReplaysWithTheRecordedShapes(string cassette)
    {
        var exchanges = ResponsesRecordings.PydanticCassette(cassette);
        var era = cassette == "test_openai_responses_model_retry" ? Era202503 : [];
        var diffs = (await ReplayAsync(cassette, exchanges)).Where(d => !era.Any(a => a.Allows("POST", "/responses", d[(d.IndexOf(": $", StringComparison.Ordinal) + 2)..]))).ToList();
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    private async Task<List<string>> ReplayAsync(string session, IReadOnlyList<RecordedExchange> exchanges)
    {
        var streaming = exchanges.Any(e => e.ResponseEvents is not null);

        // Background polls need time to pass; a foreground request answers once its model step is done, so sessions with
        // foreground requests (or streams, which wait on the fake clock) use zero-length model steps.
        var foreground = exchanges.Any(e => e.Method == "POST" && e.PathAndQuery == "/responses" && JsonNode.Parse(e.RequestBody ?? "{}")?["background"]?.GetValue<bool>() != true);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1761861537));
        await using var emulator = await AssistantsEmulator.StartAsync(new()
        {
            TimeProvider = time,
            QueuedDuration = streaming ? TimeSpan.Zero : TimeSpan.FromSeconds(1),
            InProgressDuration = streaming || foreground ? TimeSpan.Zero : TimeSpan.FromSeconds(1),
        });
        ResponsesReplayer.ScriptRecordedCalls(emulator, exchanges);
        var replayer = new ResponsesReplayer(emulator, time);
        var diffs = new List<string>();
        var compared = 0;
        for (var i = 0; i < exchanges.Count; i++)
        {
            var exchange = exchanges[i];
            if (Skip(exchange) is { } reason)
            {
                output.WriteLine($"skipped #{i} {exchange.Describe}: {reason}");
                continue;
            }

            var result = await replayer.ReplayAsync(exchange);
            compared++;
            diffs.AddRange(Compare($"{session} #{i}", result, replayer.Ids));
        }

        output.WriteLine($"{compared} of {exchanges.Count} recorded exchanges compared");
        Assert.True(compared > 0);
        return diffs;
    }

    /// <summary>Exchanges of features the emulator does not provide.</summary>
    private static string? Skip(RecordedExchange exchange)
    {
        if (exchange.PathAndQuery.StartsWith("/responses/compact", StringComparison.Ordinal))
        {
            return "POST /responses/compact is not emulated";
        }

        if ((string?)exchange.ResponseJson?["error"]?["message"] is { } message && message.Contains("of type 'reasoning' was provided without its required following item", StringComparison.Ordinal))
        {
            return "reasoning item pairing is not validated (the emulator produces no reasoning items)";
        }

        return null;
    }

    internal static List<string> Compare(string context, ReplayResult result, IdMap ids)
    {
        var exchange = result.Recorded;
        var diffs = new List<string>();
        var where = $"{context} {exchange.Describe}";
        if (result.Status != exchange.Status)
        {
            diffs.Add($"{where}: status recorded {exchange.Status}, emulator {result.Status}: {result.Json?.ToJsonString()}");
            return diffs;
        }

        if (exchange.ResponseEvents is { } recordedEvents)
        {
            diffs.AddRange(CompareStreams(where, exchange, recordedEvents, result.Events ?? [], ids));
            return diffs;
        }

        diffs.AddRange(Filter(exchange, JsonShape.Compare(exchange.ResponseJson, result.Json)).Select(d => $"{where}: {d}"));
        if (exchange.ResponseJson?["error"] is JsonObject recordedError)
        {
            diffs.AddRange(CompareError(where, exchange, recordedError, result.Json?["error"], ids));
        }

        ids.Learn(exchange.ResponseJson, result.Json);
        return diffs;
    }

    internal static IEnumerable<string> CompareError(string where, RecordedExchange exchange, JsonObject recordedError, JsonNode? actual, IdMap ids)
    {
        var code = (string?)recordedError["code"];
        var expected = ids.Apply((string)recordedError["message"]!);
        var message = (string?)actual?["message"];
        var messageAllowed = Allowances.Any(a => a.Allows(exchange.Method, exchange.PathAndQuery, $"error.message.{code}: differs"));
        if (expected != message && !messageAllowed)
        {
            yield return $"{where}: error message recorded \"{expected}\", emulator \"{message}\"";
        }

        foreach (var field in new[] { "type", "param", "code" })
        {
            if (recordedError[field]?.ToJsonString() != actual?[field]?.ToJsonString())
            {
                yield return $"{where}: error.{field} recorded {recordedError[field]?.ToJsonString() ?? "null"}, emulator {actual?[field]?.ToJsonString() ?? "null"}";
            }
        }
    }

    /// <summary>
    /// Compares two event streams: the event-name sequences (consecutive repeats collapsed), the sequence numbers (from
    /// the first one, without gaps) and each emulator event's shape against the recorded events of the same name. Events
    /// of output items the emulator does not produce (reasoning, hosted tool calls) are taken out of the recording first.
    /// </summary>
    internal static List<string> CompareStreams(string where, RecordedExchange exchange, IReadOnlyList<SseEvent> recorded, IReadOnlyList<SseEvent> actual, IdMap ids)
    {
        var diffs = new List<string>();
        var foreign = recorded
            .Where(e => e.Json?["item"] is JsonObject item && (string?)item["type"] is not ("message" or "function_call"))
            .Select(e => (int?)e.Json?["output_index"])
            .ToHashSet();
        var kept = recorded.Where(e => !e.Name.StartsWith("response.reasoning", StringComparison.Ordinal) && !(e.Json?["output_index"] is not null && foreign.Contains((int?)e.Json["output_index"]))).ToList();
        var recordedNames = Collapse(kept.Select(e => e.Name));
        var actualNames = Collapse(actual.Select(e => e.Name));
        if (!recordedNames.SequenceEqual(actualNames))
        {
            diffs.Add($"{where}: event sequence recorded [{string.Join(", ", recordedNames)}], emulator [{string.Join(", ", actualNames)}]");
        }

        var first = (int?)recorded.FirstOrDefault()?.Json?["sequence_number"] ?? 0;
        var numbers = actual.Select(e => (int?)e.Json?["sequence_number"]).ToList();
        if (!numbers.SequenceEqual(Enumerable.Range(first, actual.Count).Select(n => (int?)n)))
        {
            diffs.Add($"{where}: sequence numbers are not {first}..{first + actual.Count - 1}: [{string.Join(", ", numbers)}]");
        }

        if (actual.Any(e => e.Data == "[DONE]"))
        {
            diffs.Add($"{where}: the emulator sent a [DONE] sentinel");
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ev in actual)
        {
            var occurrence = seen[ev.Name] = seen.GetValueOrDefault(ev.Name) + 1;
            if (ev.Name != (string?)ev.Json?["type"])
            {
                diffs.Add($"{where}: event {ev.Name} carries type {(string?)ev.Json?["type"]}");
            }

            var candidates = kept.Where(e => e.Name == ev.Name).ToList();
            if (candidates.Count == 0)
            {
                continue;
            }

            List<string>? best = null;
            foreach (var candidate in candidates)
            {
                var attempt = Filter(exchange, JsonShape.Compare(candidate.Json, ev.Json)).ToList();
                if (best is null || attempt.Count < best.Count)
                {
                    best = attempt;
                }

                if (best.Count == 0)
                {
                    break;
                }
            }


            diffs.AddRange(best!.Select(d => $"{where} event {ev.Name}#{occurrence}: {d}"));
            ids.Learn(candidates[Math.Min(occurrence, candidates.Count) - 1].Json, ev.Json);
        }

        return diffs;
    }

    private static List<string> Collapse(IEnumerable<string> names)
    {
        var result = new List<string>();
        foreach (var name in names)
        {
            if (result.Count == 0 || result[^1] != name)
            {
                result.Add(name);
            }
        }

        return result;
    }

    internal static IEnumerable<string> Filter(RecordedExchange exchange, IEnumerable<string> diffs) =>
        diffs.Where(d => !Allowances.Any(a => a.Allows(exchange.Method, exchange.PathAndQuery, d)));
}
