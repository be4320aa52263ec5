using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// An emulator and a kit speaking <see cref="Protocol"/> to it, with the scenario tools registered. Polling waits 0 ms
/// (the emulator's durations are 0 unless a test sets them), so polled runs need no clock; tests that need simulated time
/// pass a <see cref="FakeTimeProvider"/> shared by both sides.
/// </summary>
internal sealed class ProtocolKit : IAsyncDisposable
{
    /// <summary>The assistant's instructions (9 characters, part of every prompt in the usage formula).</summary>
    public const string Instructions = "Be brief.";

    public const string AssistantName = "protocols";

    public static readonly DateTimeOffset Start = new(2026, 9, 1, 9, 0, 0, TimeSpan.Zero);

    private ProtocolKit(AssistantsProtocol protocol, AssistantsEmulator emulator, ServiceProvider services, FakeTimeProvider? time)
    {
        Protocol = protocol;
        Emulator = emulator;
        Services = services;
        Time = time;
    }

    /// <summary>Restores the default poll schedule (for tests on a fake clock, where 0 ms polls would spin).</summary>
    public static void DefaultPolling(AssistantsKitOptions options)
    {
        var defaults = new RunPollingOptions();
        options.Polling.InitialDelay = defaults.InitialDelay;
        options.Polling.MinDelay = defaults.MinDelay;
    }

    public static TheoryData<AssistantsProtocol> Both => [AssistantsProtocol.Assistants, AssistantsProtocol.Responses];

    public AssistantsProtocol Protocol { get; }

    public bool IsResponses => Protocol == AssistantsProtocol.Responses;

    public AssistantsEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public FakeTimeProvider? Time { get; }

    public EmulatorScript Script => Emulator.Script;

    public EmulatorRequestLog Requests => Emulator.Requests;

    public AssistantRunner Runner => Services.GetRequiredService<AssistantRunner>();

    public IConversationStore Store => Services.GetRequiredService<IConversationStore>();

    public ScenarioProbe Probe => Services.GetRequiredService<ScenarioProbe>();

    /// <summary>The prefix of thread IDs (<c>thread_</c>) or conversation IDs (<c>conv_</c>).</summary>
    public string ThreadPrefix => IsResponses ? "conv_" : "thread_";

    /// <summary>The prefix of run IDs (<c>run_</c>) or response IDs (<c>resp_</c>).</summary>
    public string RunPrefix => IsResponses ? "resp_" : "run_";

    /// <summary>The path pattern of the request that cancels a run or a response.</summary>
    public string CancelPath => IsResponses ? "/responses/*/cancel" : "/threads/*/runs/*/cancel";

    public static async Task<ProtocolKit> StartAsync(
        AssistantsProtocol protocol,
        Action<AssistantsKitOptions>? configure = null,
        Action<AssistantsEmulatorOptions>? emulator = null,
        FakeTimeProvider? time = null,
        Action<IAssistantsKitBuilder>? kit = null,
        Action<IServiceCollection>? services = null,
        TimeProvider? kitTime = null)
    {
        var emulatorOptions = new AssistantsEmulatorOptions();
        if (time is not null)
        {
            emulatorOptions.TimeProvider = time;
        }

        emulator?.Invoke(emulatorOptions);
        var server = await AssistantsEmulator.StartAsync(emulatorOptions);
        try
        {
            var provider = Build(server.BaseUri, protocol, configure, kitTime ?? time, kit, services);
            return new ProtocolKit(protocol, server, provider, time);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Builds another, independent kit (its own store unless <paramref name="kit"/> adds a shared one) on the same emulator.</summary>
    public ServiceProvider NewKit(
        AssistantsProtocol? protocol = null,
        Action<AssistantsKitOptions>? configure = null,
        Action<IAssistantsKitBuilder>? kit = null,
        Action<IServiceCollection>? services = null) =>
        Build(Emulator.BaseUri, protocol ?? Protocol, configure, Time, kit, services);

    private static ServiceProvider Build(
        Uri endpoint,
        AssistantsProtocol protocol,
        Action<AssistantsKitOptions>? configure,
        TimeProvider? time,
        Action<IAssistantsKitBuilder>? kit,
        Action<IServiceCollection>? services) =>
        KitServices.Build(
            endpoint,
            o =>
            {
                o.Protocol = protocol;
                o.Assistant.Name = AssistantName;
                o.Assistant.Instructions = Instructions;
                o.Polling.InitialDelay = TimeSpan.Zero;
                o.Polling.MinDelay = TimeSpan.Zero;
                o.Polling.Jitter = 0;
                configure?.Invoke(o);
            },
            time,
            k =>
            {
                k.AddTools<ScenarioTools>();
                kit?.Invoke(k);
            },
            s =>
            {
                s.AddSingleton<ScenarioProbe>();
                services?.Invoke(s);
            });

    /// <summary>The bodies of every <c>POST /responses</c>, oldest first.</summary>
    public IReadOnlyList<JsonObject> ResponseBodies() =>
        [.. Requests.Where("POST", "/responses").Select(r => r.BodyAsJson()!.AsObject())];

    /// <summary>
    /// The tool outputs the kit sent, one list per round, in body order: the <c>tool_outputs</c> of each
    /// <c>submit_tool_outputs</c> (Assistants) or the <c>function_call_output</c> input items of each <c>POST /responses</c>
    /// that has any (Responses).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<(string CallId, string Output)>> OutputRounds()
    {
        if (!IsResponses)
        {
            return [.. Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs").Select(r =>
                (IReadOnlyList<(string, string)>)[.. r.BodyAsJson()!["tool_outputs"]!.AsArray().Select(o => ((string)o!["tool_call_id"]!, (string)o["output"]!))])];
        }

        return [.. ResponseBodies()
            .Select(b => (IReadOnlyList<(string, string)>)[.. (b["input"] as JsonArray ?? [])
                .Where(i => (string?)i!["type"] == "function_call_output")
                .Select(i => ((string)i!["call_id"]!, (string)i["output"]!))])
            .Where(round => round.Count > 0)];
    }

    /// <summary>The <c>function_call_output</c> items the kit posted straight into a conversation (no response created).</summary>
    public IReadOnlyList<(string CallId, string Output)> OutputsPostedAsItems() =>
        [.. Requests.Where("POST", "/conversations/*/items")
            .SelectMany(r => r.BodyAsJson()!["items"]!.AsArray())
            .Where(i => (string?)i!["type"] == "function_call_output")
            .Select(i => ((string)i!["call_id"]!, (string)i["output"]!))];

    /// <summary>The requests that create a run or a response (a model turn, or a turn's next step on Responses).</summary>
    public int ModelRequests() => IsResponses
        ? Requests.Count("POST", "/responses")
        : Requests.Count("POST", "/threads/*/runs") + Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs");

    /// <summary>Every request as <c>METHOD path</c>, for assertion messages.</summary>
    public string DescribeRequests() => string.Join(Environment.NewLine, Requests.All.Select(r => r.ToString()));

    /// <summary>
    /// Awaits <paramref name="task"/> while advancing the fake clock in steps, letting loopback I/O progress in between
    /// (a few real milliseconds per step; the simulated delays never pass in real time).
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> task, TimeSpan step, int maxSteps = 5_000)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await Task.WhenAny(task, Task.Delay(2));
            if (!task.IsCompleted)
            {
                Time!.Advance(step);
            }
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
