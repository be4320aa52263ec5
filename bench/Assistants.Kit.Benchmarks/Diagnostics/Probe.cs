using System.Diagnostics;
using System.Globalization;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Benchmarks.Diagnostics;

/// <summary>
/// The <c>probe</c> console mode: wall time, process CPU time and process allocations per operation for a quick look
/// (no BenchmarkDotNet), and a steady loop to attach a profiler to:
/// <c>probe [all|raw|kit|raw-streamed|kit-streamed|get] [count] [warm-up count]</c>.
/// </summary>
internal static class Probe
{
    private static int s_warmup = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args[0] : "all";
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        s_warmup = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
        await using var emulator = await AssistantsEmulator.StartAsync();
        TurnScript.Apply(emulator.Script);
        await using var kit = TurnScript.BuildKit(emulator.BaseUri);
        var runner = kit.GetRequiredService<AssistantRunner>();
        var assistantId = await runner.EnsureAssistantAsync();
        using var raw = new RawTurnClient(emulator.BaseUri, assistantId);
        var thread = "";
        var run = (await raw.Client.CreateRunAsync(await raw.CreateThreadAsync(), assistantId)).Value;

        async Task RawSide(int i, TurnPath path)
        {
            if (i % TurnBenchmarks.TurnsPerConversation == 0)
            {
                emulator.Requests.Clear();
                thread = await raw.CreateThreadAsync();
            }

            _ = path == TurnPath.Polled
                ? await raw.PolledTurnAsync(thread, TurnScript.ToolMessage)
                : await raw.StreamedTurnAsync(thread, TurnScript.ToolMessage);
        }

        async Task KitSide(int i, TurnPath path)
        {
            if (i % TurnBenchmarks.TurnsPerConversation == 0)
            {
                emulator.Requests.Clear();
            }

            _ = await KitTurn.RunAsync(runner, path, "probe-" + (i / TurnBenchmarks.TurnsPerConversation), TurnScript.ToolMessage);
        }

        if (which is "all" or "get")
        {
            await MeasureAsync("raw GET run", count * 4, async _ => await raw.Client.GetRunAsync(run.ThreadId, run.Id));
        }

        if (which is "all" or "raw")
        {
            await MeasureAsync("raw polled turn", count, i => RawSide(i, TurnPath.Polled));
        }

        if (which is "all" or "kit")
        {
            await MeasureAsync("kit polled turn", count, i => KitSide(i, TurnPath.Polled));
        }

        if (which is "all" or "raw-streamed")
        {
            await MeasureAsync("raw streamed turn", count, i => RawSide(i, TurnPath.Streamed));
        }

        if (which is "all" or "kit-streamed")
        {
            await MeasureAsync("kit streamed turn", count, i => KitSide(i, TurnPath.Streamed));
        }

        return 0;
    }

    private static async Task MeasureAsync(string name, int count, Func<int, Task> action)
    {
        for (var i = 0; i < s_warmup; i++)
        {
            await action(i + 1_000_000);
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await action(i);
        }

        clock.Stop();
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name,-20} {clock.Elapsed.TotalMicroseconds / count,8:0} µs/op wall {cpuUsed.TotalMicroseconds / count,8:0} µs/op CPU {bytes / count / 1024.0,8:0.0} KB/op (process)"));
    }
}
