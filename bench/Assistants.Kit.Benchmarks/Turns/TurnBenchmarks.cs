using Assistants.Kit.Testing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Benchmarks.Turns;

/// <summary>
/// One whole tool-calling turn (message → run → requires_action → tool → submit → completed → reply) through the kit
/// against hand-written code on the raw <c>AssistantClient</c>, both on the same in-process emulator with zero run
/// latency, zero poll delays and the same primary HTTP handler. Each conversation takes
/// <see cref="TurnsPerConversation"/> turns, then both sides start a new one (the thread creation is measured on both
/// sides alike), so threads never grow without bound.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's allocation figure is the whole process's (<c>GC.GetTotalAllocatedBytes</c>): it includes the
/// emulator's server-side allocations, which are the same for both sides (same requests). The client-only allocations
/// are measured by the <c>alloc</c> console mode (Diagnostics/ClientAllocations.cs, emulator in another process); see
/// docs/benchmarks.md.
/// </remarks>
[MemoryDiagnoser]
public class TurnBenchmarks
{
    public const int TurnsPerConversation = 16;

    private AssistantsEmulator _emulator = null!;
    private ServiceProvider _kit = null!;
    private AssistantRunner _runner = null!;
    private RawTurnClient _raw = null!;
    private int _kitTurns;
    private int _rawTurns;
    private int _conversation;
    private string _kitKey = "";
    private string _rawThread = "";

    [Params(TurnPath.Polled, TurnPath.Streamed)]
    public TurnPath Path { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _kit.Dispose();
        _emulator.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "raw AssistantClient turn")]
    public async Task<string> Raw()
    {
        if (_rawTurns++ % TurnsPerConversation == 0)
        {
            _emulator.Requests.Clear();
            _rawThread = await _raw.CreateThreadAsync().ConfigureAwait(false);
        }

        return Path == TurnPath.Polled
            ? await _raw.PolledTurnAsync(_rawThread, TurnScript.ToolMessage).ConfigureAwait(false)
            : await _raw.StreamedTurnAsync(_rawThread, TurnScript.ToolMessage).ConfigureAwait(false);
    }

    [Benchmark(Description = "kit AssistantRunner turn")]
    public async Task<string> Kit()
    {
        if (_kitTurns++ % TurnsPerConversation == 0)
        {
            _emulator.Requests.Clear();
            _kitKey = "bench-" + _conversation++;
        }

        return await KitTurn.RunAsync(_runner, Path, _kitKey, TurnScript.ToolMessage).ConfigureAwait(false);
    }

    private async Task SetupAsync()
    {
        _emulator = await AssistantsEmulator.StartAsync().ConfigureAwait(false);
        TurnScript.Apply(_emulator.Script);
        _kit = TurnScript.BuildKit(_emulator.BaseUri);
        _runner = _kit.GetRequiredService<AssistantRunner>();
        string assistantId = await _runner.EnsureAssistantAsync().ConfigureAwait(false);
        _raw = new RawTurnClient(_emulator.BaseUri, assistantId);

        // Both sides produce the same reply before anything is measured.
        string kit = await KitTurn.RunAsync(_runner, Path, "bench-warmup", TurnScript.ToolMessage).ConfigureAwait(false);
        string raw = Path == TurnPath.Polled
            ? await _raw.PolledTurnAsync(await _raw.CreateThreadAsync().ConfigureAwait(false), TurnScript.ToolMessage).ConfigureAwait(false)
            : await _raw.StreamedTurnAsync(await _raw.CreateThreadAsync().ConfigureAwait(false), TurnScript.ToolMessage).ConfigureAwait(false);
        if (!kit.StartsWith("Order A-1001: {", StringComparison.Ordinal) || !raw.StartsWith("Order A-1001: {", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"A side did not complete the tool round: kit '{kit}', raw '{raw}'.");
        }
    }
}
