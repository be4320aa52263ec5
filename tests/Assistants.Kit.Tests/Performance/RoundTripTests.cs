using System.Text.RegularExpressions;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Performance;

/// <summary>
/// Round trips per turn, read from the emulator's request log, against the protocol minimum of each configuration
/// (zero emulated latency, so one status check per wait is the minimum; with real latency the number of checks is the
/// poll schedule's, see the poller simulation). No timing is asserted here.
/// </summary>
/// <remarks>
/// <para>Protocol minimum of a warm turn (assistant known, thread exists):</para>
/// <list type="bullet">
/// <item>Polled, no tools: POST message, POST run, GET run (completed), GET messages = 4; step log on: + GET steps = 5.</item>
/// <item>Polled, one tool round: POST message, POST run, GET run (requires_action), POST submit_tool_outputs, GET run
/// (completed), GET messages = 6; step log on: + GET steps = 7.</item>
/// <item>Streamed, no tools: POST message, POST run (stream) = 2 — the stream carries the message (thread.message.completed)
/// and the steps (thread.run.step.completed), so the step log costs nothing.</item>
/// <item>Streamed, one tool round: POST message, POST run (stream), POST submit_tool_outputs (stream) = 3.</item>
/// <item>First turn of a conversation: + POST /threads. Once per process: the assistant ensure (list, create, list).</item>
/// </list>
/// </remarks>
public sealed partial class RoundTripTests
{
    /// <summary>The protocol minimum of a warm turn, as "METHOD /path" with IDs as <c>*</c>.</summary>
    public static IReadOnlyList<string> ProtocolMinimum(TurnPath path, bool tools, bool stepLog)
    {
        var requests = new List<string> { "POST /threads/*/messages", "POST /threads/*/runs" };
        if (path == TurnPath.Streamed)
        {
            if (tools)
            {
                requests.Add("POST /threads/*/runs/*/submit_tool_outputs");
            }

            return requests;
        }

        requests.Add("GET /threads/*/runs/*");
        if (tools)
        {
            requests.Add("POST /threads/*/runs/*/submit_tool_outputs");
            requests.Add("GET /threads/*/runs/*");
        }

        requests.Add("GET /threads/*/messages");
        if (stepLog)
        {
            requests.Add("GET /threads/*/runs/*/steps");
        }

        return requests;
    }

    [Theory]
    [InlineData(TurnPath.Polled, false, false)]
    [InlineData(TurnPath.Polled, false, true)]
    [InlineData(TurnPath.Polled, true, false)]
    [InlineData(TurnPath.Polled, true, true)]
    [InlineData(TurnPath.Streamed, false, false)]
    [InlineData(TurnPath.Streamed, false, true)]
    [InlineData(TurnPath.Streamed, true, false)]
    [InlineData(TurnPath.Streamed, true, true)]
    public async Task Kit_warm_turn_makes_exactly_the_protocol_minimum(TurnPath path, bool tools, bool stepLog)
    {
        await using var setup = await Setup.StartAsync(stepLog);
        await setup.KitTurnAsync(path, "conversation", tools); // warm: assistant ensured, thread created

        setup.Emulator.Requests.Clear();
        await setup.KitTurnAsync(path, "conversation", tools);

        Assert.Equal(ProtocolMinimum(path, tools, stepLog), setup.Logged());
    }

    [Theory]
    [InlineData(TurnPath.Polled, false)]
    [InlineData(TurnPath.Polled, true)]
    [InlineData(TurnPath.Streamed, false)]
    [InlineData(TurnPath.Streamed, true)]
    public async Task Raw_client_turn_makes_exactly_the_protocol_minimum(TurnPath path, bool tools)
    {
        await using var setup = await Setup.StartAsync(stepLog: false);
        var assistantId = await setup.Runner.EnsureAssistantAsync();
        using var raw = new RawTurnClient(setup.Emulator.BaseUri, assistantId);
        var thread = await raw.CreateThreadAsync();
        var message = tools ? TurnScript.ToolMessage : TurnScript.PlainMessage;

        setup.Emulator.Requests.Clear();
        var reply = path == TurnPath.Polled ? await raw.PolledTurnAsync(thread, message) : await raw.StreamedTurnAsync(thread, message);

        Assert.StartsWith(tools ? "Order A-1001: {" : TurnScript.PlainReply, reply, StringComparison.Ordinal);
        Assert.Equal(ProtocolMinimum(path, tools, stepLog: false), setup.Logged());
    }

    [Theory]
    [InlineData(TurnPath.Polled)]
    [InlineData(TurnPath.Streamed)]
    public async Task Kit_first_turn_of_a_new_conversation_adds_only_the_thread(TurnPath path)
    {
        await using var setup = await Setup.StartAsync(stepLog: false);
        await setup.Runner.EnsureAssistantAsync();

        setup.Emulator.Requests.Clear();
        await setup.KitTurnAsync(path, "new-conversation", tools: true);

        var logged = setup.Logged();
        Assert.Equal("POST /threads", logged[0]);
        var rest = logged.Skip(1).ToList();
        var minimum = ProtocolMinimum(path, tools: true, stepLog: false);
        Assert.Equal(minimum, rest);
    }

    [Fact]
    public async Task Kit_ensures_the_assistant_once_per_process()
    {
        await using var setup = await Setup.StartAsync(stepLog: false);
        await setup.KitTurnAsync(TurnPath.Polled, "a", tools: true);
        var first = setup.Logged().Where(r => r.Contains("/assistants", StringComparison.Ordinal)).ToList();

        setup.Emulator.Requests.Clear();
        await setup.KitTurnAsync(TurnPath.Polled, "b", tools: true);
        await setup.KitTurnAsync(TurnPath.Polled, "a", tools: true);

        Assert.Equal(["GET /assistants", "POST /assistants", "GET /assistants"], first); // scan, create, converge with racers
        Assert.DoesNotContain(setup.Logged(), r => r.Contains("/assistants", StringComparison.Ordinal));
    }

    [GeneratedRegex("^(thread|run|msg|asst|step|call)_[A-Za-z0-9]+$")]
    private static partial Regex IdSegment();

    private sealed class Setup : IAsyncDisposable
    {
        private Setup(AssistantsEmulator emulator, ServiceProvider kit)
        {
            Emulator = emulator;
            Kit = kit;
        }

        public AssistantsEmulator Emulator { get; }

        public ServiceProvider Kit { get; }

        public AssistantRunner Runner => Kit.GetRequiredService<AssistantRunner>();

        public static async Task<Setup> StartAsync(bool stepLog)
        {
            var emulator = await AssistantsEmulator.StartAsync();
            TurnScript.Apply(emulator.Script);
            return new Setup(emulator, TurnScript.BuildKit(emulator.BaseUri, o => o.RunStepLog = stepLog));
        }

        public async Task KitTurnAsync(TurnPath path, string key, bool tools)
        {
            var reply = await KitTurn.RunAsync(Runner, path, key, tools ? TurnScript.ToolMessage : TurnScript.PlainMessage);
            Assert.StartsWith(tools ? "Order A-1001: {" : TurnScript.PlainReply, reply, StringComparison.Ordinal);
        }

        /// <summary>The logged requests as "METHOD /path" with every ID segment as <c>*</c>.</summary>
        public List<string> Logged() =>
            [.. Emulator.Requests.All.Select(r => r.Method + " " + string.Join('/', r.Path.Split('/').Select(s => IdSegment().IsMatch(s) ? "*" : s)))];

        public async ValueTask DisposeAsync()
        {
            await Kit.DisposeAsync();
            await Emulator.DisposeAsync();
        }
    }
}
