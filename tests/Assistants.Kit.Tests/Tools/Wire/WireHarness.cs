using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Tools.Wire;

/// <summary>
/// An emulator on loopback and a kit container pointed at it. The emulator answers every run read with
/// <c>openai-poll-after-ms: 0</c>, so the kit never waits between polls unless a test sets durations (then both sides
/// share one <see cref="FakeTimeProvider"/> and the test advances it).
/// </summary>
internal sealed class WireHarness : IAsyncDisposable
{
    /// <summary>The assistant's instructions (9 characters, part of every prompt in the usage formula).</summary>
    public const string Instructions = "Be brief.";

    public const string AssistantName = "wire";

    public static readonly DateTimeOffset Start = new(2026, 4, 1, 9, 0, 0, TimeSpan.Zero);

    private WireHarness(AssistantsEmulator emulator, ServiceProvider services, FakeTimeProvider? time)
    {
        Emulator = emulator;
        Services = services;
        Time = time;
    }

    public AssistantsEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public FakeTimeProvider? Time { get; }

    public EmulatorScript Script => Emulator.Script;

    public EmulatorRequestLog Requests => Emulator.Requests;

    public AssistantRunner Runner => Services.GetRequiredService<AssistantRunner>();

    public static async Task<WireHarness> StartAsync(
        Action<IAssistantsKitBuilder>? kit = null,
        Action<AssistantsKitOptions>? configure = null,
        Action<AssistantsEmulatorOptions>? emulator = null,
        FakeTimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        TimeProvider? kitTime = null)
    {
        var emulatorOptions = new AssistantsEmulatorOptions { PollAfter = TimeSpan.Zero };
        if (time is not null)
        {
            emulatorOptions.TimeProvider = time;
        }

        emulator?.Invoke(emulatorOptions);
        var server = await AssistantsEmulator.StartAsync(emulatorOptions);
        try
        {
            var provider = KitServices.Build(
                server.BaseUri,
                o =>
                {
                    o.Assistant.Name = AssistantName;
                    o.Assistant.Instructions = Instructions;
                    configure?.Invoke(o);
                },
                kitTime ?? time,
                kit,
                services);
            return new WireHarness(server, provider, time);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The bodies of every <c>submit_tool_outputs</c> request, oldest first.</summary>
    public IReadOnlyList<JsonObject> SubmitBodies() =>
        [.. Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Select(r => r.BodyAsJson()!.AsObject())];

    /// <summary>The <c>(tool_call_id, output)</c> pairs of one submit body, in body order.</summary>
    public static IReadOnlyList<(string Id, string Output)> Outputs(JsonObject submitBody) =>
        [.. submitBody["tool_outputs"]!.AsArray().Select(o => ((string)o!["tool_call_id"]!, (string)o["output"]!))];

    /// <summary>The output submitted for the only call of the only submit.</summary>
    public string SingleOutput()
    {
        var body = Assert.Single(SubmitBodies());
        return Assert.Single(Outputs(body)).Output;
    }

    /// <summary>
    /// The tool call IDs of each distinct <c>requires_action</c> the server answered with (from the recorded responses),
    /// in order: one list per round.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> RequiredRounds()
    {
        var rounds = new List<IReadOnlyList<string>>();
        foreach (var request in Requests.All)
        {
            if (request.ResponseBody is not { } text || !text.Contains("\"requires_action\"", StringComparison.Ordinal))
            {
                continue;
            }

            var run = JsonNode.Parse(text);
            if ((string?)run?["status"] != "requires_action")
            {
                continue;
            }

            IReadOnlyList<string> ids = [.. run["required_action"]!["submit_tool_outputs"]!["tool_calls"]!.AsArray().Select(c => (string)c!["id"]!)];
            if (rounds.Count == 0 || !rounds[^1].SequenceEqual(ids))
            {
                rounds.Add(ids);
            }
        }

        return rounds;
    }

    /// <summary>Every request as <c>METHOD path</c>, for assertion messages.</summary>
    public string DescribeRequests() => string.Join(Environment.NewLine, Requests.All.Select(r => r.ToString()));

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
