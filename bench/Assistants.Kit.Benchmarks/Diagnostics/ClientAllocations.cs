using System.Globalization;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Http.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Benchmarks.Diagnostics;

/// <summary>
/// The <c>alloc</c> console mode: bytes allocated by the client process per turn (GC.GetTotalAllocatedBytes, precise),
/// with the emulator in another process — the figure BenchmarkDotNet's in-process run cannot separate from the server's.
/// <c>alloc [turns] [--types]</c> (<c>--types</c>: also the sampled allocations by type, kit minus raw); the same turns, conversation rotation and settings as <see cref="TurnBenchmarks"/>.
/// </summary>
internal static class ClientAllocations
{
    public static async Task<int> RunAsync(string[] args)
    {
        var turns = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        using var sampler = args.Contains("--types") ? new AllocationSampler() : null;
        var samples = new List<(string Name, IReadOnlyDictionary<string, long> Bytes)>();
        using var host = EmulatorHost.Start();
        await using var kit = TurnScript.BuildKit(host.BaseUri);
        // Ablation (bench only): the kit without the resilience handler (the kit's clients have no IHttpClientFactory
        // logging handlers since F4, so clearing the additional handlers removes the resilience handler only).
        await using var bareStack = TurnScript.BuildKit(host.BaseUri, kit: b => b.Services.AddHttpClient(KitHttpClient.Name)
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Clear()));
        var runner = kit.GetRequiredService<AssistantRunner>();
        var assistantId = await runner.EnsureAssistantAsync().ConfigureAwait(false);
        var bareRunner = bareStack.GetRequiredService<AssistantRunner>();
        await bareRunner.EnsureAssistantAsync().ConfigureAwait(false);
        using var raw = new RawTurnClient(host.BaseUri, assistantId);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Client-only allocations per turn ({turns} turns after {turns / 4} warm-up turns; emulator in another process)."));
        Console.WriteLine();
        Console.WriteLine("| path | raw (KB/turn) | kit (KB/turn) | ×raw | kit without resilience handler (KB/turn) | ×raw |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var path in new[] { TurnPath.Polled, TurnPath.Streamed })
        {
            var thread = "";
            var rawBytes = await MeasureAsync(sampler, samples, $"raw {path}", turns, async i =>
            {
                if (i % TurnBenchmarks.TurnsPerConversation == 0)
                {
                    thread = await raw.CreateThreadAsync().ConfigureAwait(false);
                }

                _ = path == TurnPath.Polled
                    ? await raw.PolledTurnAsync(thread, TurnScript.ToolMessage).ConfigureAwait(false)
                    : await raw.StreamedTurnAsync(thread, TurnScript.ToolMessage).ConfigureAwait(false);
            }).ConfigureAwait(false);
            var kitBytes = await MeasureAsync(sampler, samples, $"kit {path}", turns, i => KitTurn.RunAsync(runner, path, $"alloc-{path}-{i / TurnBenchmarks.TurnsPerConversation}", TurnScript.ToolMessage)).ConfigureAwait(false);
            var bareBytes = await MeasureAsync(null, samples, "", turns, i => KitTurn.RunAsync(bareRunner, path, $"alloc-{path}-{i / TurnBenchmarks.TurnsPerConversation}", TurnScript.ToolMessage)).ConfigureAwait(false);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {path} | {rawBytes / 1024:0.0} | {kitBytes / 1024:0.0} | {kitBytes / rawBytes:0.00} | {bareBytes / 1024:0.0} | {bareBytes / rawBytes:0.00} |"));
        }

        // Per-turn work inside the kit, measured alone.
        var ensurer = kit.GetRequiredService<Assistants.Kit.Definitions.Internal.AssistantEnsurer>();
        var definition = kit.GetRequiredService<Microsoft.Extensions.Options.IOptions<AssistantsKitOptions>>().Value.Assistant;
        var specBytes = Allocated(1000, () => ensurer.BuildSpec(definition));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"AssistantEnsurer.BuildSpec (run on every turn by EnsureAsync; cached per definition instance): {specBytes:0} bytes per call."));

        foreach (var pair in samples.Chunk(2))
        {
            // Sampled bytes by type (GCAllocationTick, ~100 KB granularity), kit minus raw, per turn.
            var (rawTypes, kitTypes) = (pair[0].Bytes, pair[1].Bytes);
            Console.WriteLine();
            Console.WriteLine($"Sampled allocations by type, {pair[1].Name} vs {pair[0].Name} (bytes per turn; sampling granularity ~100 KB):");
            Console.WriteLine();
            Console.WriteLine("| type | raw | kit | kit − raw |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var type in rawTypes.Keys.Union(kitTypes.Keys).OrderByDescending(k => kitTypes.GetValueOrDefault(k) - rawTypes.GetValueOrDefault(k)).Take(20))
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {type} | {rawTypes.GetValueOrDefault(type) / (double)turns:0} | {kitTypes.GetValueOrDefault(type) / (double)turns:0} | {(kitTypes.GetValueOrDefault(type) - rawTypes.GetValueOrDefault(type)) / (double)turns:0} |"));
            }
        }

        return 0;
    }

    private static double Allocated(int count, Func<object> action)
    {
        for (var i = 0; i < 100; i++)
        {
            _ = action();
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < count; i++)
        {
            _ = action();
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)count;
    }

    private static async Task<double> MeasureAsync(
        AllocationSampler? sampler, List<(string Name, IReadOnlyDictionary<string, long> Bytes)> samples, string name, int turns, Func<int, Task> turn)
    {
        for (var i = 0; i < turns / 4; i++)
        {
            await turn(1_000_000 + i).ConfigureAwait(false);
        }

        sampler?.TakeSnapshot();
        sampler?.Recording = true;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < turns; i++)
        {
            await turn(i).ConfigureAwait(false);
        }

        if (sampler is not null)
        {
            sampler.Recording = false;
            samples.Add((name, sampler.TakeSnapshot()));
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)turns;
    }
}
