using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Assistants.Kit.Testing.Tests;

/// <summary>
/// The emulator against the recorded traffic of the real service: every recorded Assistants operation is sent to the
/// emulator (sessions replayed in order, recorded IDs mapped to the emulator's) and the responses are compared by shape.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    /// <summary>The documented differences between the recordings and the emulator (real-service quirks the emulator does not copy).</summary>
    internal static readonly Allowance[] Allowances =
    [
        new("POST /threads/*/messages/*", "$.file_ids",
            "Message modify: the real service returns the v1-era `file_ids: []` instead of `attachments` (recorded in 2024 and 2025); the emulator returns `attachments`, like every other message response."),
        new("POST /threads/*/messages/*", "$.attachments", "Same quirk as above, seen from the emulator's side."),
    ];

    public static TheoryData<string> DotnetSessions()
    {
        var data = new TheoryData<string>();
        foreach (var name in Recordings.DotnetSessionNames())
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DotnetSessions))]
    public async Task RecordedSession_ReplaysWithTheRecordedShapes(string session)
    {
        var exchanges = Recordings.DotnetSession(session);
        var streaming = exchanges.Any(e => e.ResponseEvents is not null);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1761861537));
        var step = streaming ? TimeSpan.Zero : TimeSpan.FromSeconds(1);
        await using var emulator = await AssistantsEmulator.StartAsync(new() { TimeProvider = time, QueuedDuration = step, InProgressDuration = step });
        Replayer.ScriptRecordedToolCalls(emulator, exchanges);
        var replayer = new Replayer(emulator, time);
        var diffs = new List<string>();
        var compared = 0;
        for (var i = 0; i < exchanges.Count; i++)
        {
            var exchange = exchanges[i];
            var result = await replayer.ReplayAsync(exchange);
            if (result.Skipped is not null)
            {
                output.WriteLine($"skipped #{i} {exchange.Describe}: {result.Skipped}");
                continue;
            }

            compared++;
            diffs.AddRange(CompareResult($"{session} #{i}", result, replayer.Ids));
        }

        output.WriteLine($"{compared} of {exchanges.Count} recorded exchanges compared");
        Assert.True(compared > 0);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    internal static List<string> CompareResult(string context, ReplayResult result, IdMap ids)
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
            var expected = ids.Apply((string)recordedError["message"]!);
            var actual = (string?)result.Json?["error"]?["message"];
            if (expected != actual)
            {
                diffs.Add($"{where}: error message recorded \"{expected}\", emulator \"{actual}\"");
            }

            foreach (var field in new[] { "type", "param", "code" })
            {
                if (recordedError[field]?.ToJsonString() != result.Json?["error"]?[field]?.ToJsonString())
                {
                    diffs.Add($"{where}: error.{field} recorded {recordedError[field]?.ToJsonString() ?? "null"}, emulator {result.Json?["error"]?[field]?.ToJsonString() ?? "null"}");
                }
            }
        }

        ids.Learn(exchange.ResponseJson, result.Json);
        return diffs;
    }

    /// <summary>
    /// Compares two event streams: the event-name sequences (consecutive repeats, such as the many deltas, collapsed) and
    /// each emulator event's payload against the recorded event of the same name and occurrence. Events of tool steps the
    /// emulator does not run (code_interpreter, file_search) are taken out of the recording first.
    /// </summary>
    internal static List<string> CompareStreams(string where, RecordedExchange exchange, IReadOnlyList<SseEvent> recorded, IReadOnlyList<SseEvent> actual, IdMap ids)
    {
        var diffs = new List<string>();
        var foreignSteps = recorded
            .Where(e => e.Name.StartsWith("thread.run.step", StringComparison.Ordinal))
            .Where(e => e.Json?["step_details"]?["tool_calls"] is JsonArray calls && calls.Any(c => (string?)c?["type"] != "function")
                || e.Json?["delta"]?["step_details"]?["tool_calls"] is JsonArray deltaCalls && deltaCalls.Any(c => (string?)c?["type"] is { } t && t != "function"))
            .Select(e => (string?)e.Json?["id"])
            .ToHashSet();
        var kept = recorded.Where(e => !(e.Name.StartsWith("thread.run.step", StringComparison.Ordinal) && foreignSteps.Contains((string?)e.Json?["id"]))).ToList();

        var recordedNames = Collapse(kept.Select(e => e.Name));
        var actualNames = Collapse(actual.Select(e => e.Name));
        if (!recordedNames.SequenceEqual(actualNames))
        {
            diffs.Add($"{where}: event sequence recorded [{string.Join(", ", recordedNames)}], emulator [{string.Join(", ", actualNames)}]");
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ev in actual)
        {
            var occurrence = seen[ev.Name] = seen.GetValueOrDefault(ev.Name) + 1;
            var candidates = kept.Where(e => e.Name == ev.Name).ToList();
            if (candidates.Count == 0 || ev.Name == "done")
            {
                continue;
            }

            // Like array elements: the event must have the shape of some recorded event of the same name (deltas vary:
            // only the first carries "annotations", a citation delta carries its annotation). IDs are learnt from the
            // same-occurrence counterpart.
            var best = candidates.Select(c => Filter(exchange, JsonShape.Compare(c.Json, ev.Json)).ToList()).MinBy(d => d.Count)!;
            diffs.AddRange(best.Select(d => $"{where} event {ev.Name}#{occurrence}: {d}"));
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

    private static IEnumerable<string> Filter(RecordedExchange exchange, IEnumerable<string> diffs) =>
        diffs.Where(d => !Allowances.Any(a => a.Allows(exchange.Method, exchange.PathAndQuery, d)));
}
