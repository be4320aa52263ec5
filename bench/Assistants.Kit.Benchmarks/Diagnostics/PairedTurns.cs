using System.Diagnostics;
using System.Globalization;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Benchmarks.Diagnostics;

/// <summary>
/// The <c>paired</c> console mode: the turn comparison of <see cref="TurnBenchmarks"/> measured in interleaved rounds
/// (every variant runs a block of turns in each round, in rotating order), so that the load of a shared machine hits
/// every variant alike; reports the median over rounds of wall time and process CPU time per turn.
/// <c>paired [rounds] [turns per block]</c>.
/// </summary>
/// <remarks>
/// Variants: <c>raw</c>; <c>kit</c> (as shipped).
/// Process CPU includes the in-process emulator's work, which is the same for every variant (same requests).
/// </remarks>
internal static class PairedTurns
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        var block = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        await using var emulator = await AssistantsEmulator.StartAsync();
        TurnScript.Apply(emulator.Script);
        await using var kit = TurnScript.BuildKit(emulator.BaseUri);
        AssistantRunner[] runners = [kit.GetRequiredService<AssistantRunner>()];
        var assistantId = await runners[0].EnsureAssistantAsync();

        using var raw = new RawTurnClient(emulator.BaseUri, assistantId);
        var names = new[] { "raw", "kit" };

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Interleaved rounds: {rounds} rounds × {block} turns per variant; medians over rounds; emulator in-process."));
        foreach (var path in new[] { TurnPath.Polled, TurnPath.Streamed })
        {
            var counters = new int[names.Length];
            var threads = "";
            Func<Task> Turn(int variant) => async () =>
            {
                var n = counters[variant]++;
                if (n % TurnBenchmarks.TurnsPerConversation == 0)
                {
                    emulator.Requests.Clear();
                    if (variant == 0)
                    {
                        threads = await raw.CreateThreadAsync();
                    }
                }

                if (variant == 0)
                {
                    _ = path == TurnPath.Polled ? await raw.PolledTurnAsync(threads, TurnScript.ToolMessage) : await raw.StreamedTurnAsync(threads, TurnScript.ToolMessage);
                }
                else
                {
                    _ = await KitTurn.RunAsync(runners[variant - 1], path, $"paired-{path}-{variant}-{n / TurnBenchmarks.TurnsPerConversation}", TurnScript.ToolMessage);
                }
            };

            // Warm-up: JIT and tiering for every variant.
            for (var v = 0; v < names.Length; v++)
            {
                for (var i = 0; i < 300; i++)
                {
                    await Turn(v)();
                }
            }

            var wall = names.Select(_ => new List<double>()).ToArray();
            var cpu = names.Select(_ => new List<double>()).ToArray();
            using var self = Process.GetCurrentProcess();
            for (var r = 0; r < rounds; r++)
            {
                for (var k = 0; k < names.Length; k++)
                {
                    var v = (r + k) % names.Length;
                    var turn = Turn(v);
                    self.Refresh();
                    var cpuBefore = self.TotalProcessorTime;
                    var started = Stopwatch.GetTimestamp();
                    for (var i = 0; i < block; i++)
                    {
                        await turn();
                    }

                    var elapsed = Stopwatch.GetElapsedTime(started);
                    self.Refresh();
                    wall[v].Add(elapsed.TotalMicroseconds / block);
                    cpu[v].Add((self.TotalProcessorTime - cpuBefore).TotalMicroseconds / block);
                }
            }

            var rawWall = Median(wall[0]);
            var rawCpu = Median(cpu[0]);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path}:"));
            Console.WriteLine();
            Console.WriteLine("| variant | wall µs/turn (median) | ×raw | CPU µs/turn (median, process) | ×raw | CPU above raw (µs/turn) |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            for (var v = 0; v < names.Length; v++)
            {
                var w = Median(wall[v]);
                var c = Median(cpu[v]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {names[v]} | {w:0} | {w / rawWall:0.00} | {c:0} | {c / rawCpu:0.00} | {c - rawCpu:0} |"));
            }
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
