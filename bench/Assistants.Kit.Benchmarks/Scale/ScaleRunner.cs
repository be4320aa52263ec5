using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Assistants;

namespace Assistants.Kit.Benchmarks.Scale;

/// <summary>The figures of one side of the scale run.</summary>
internal sealed record ScaleResult(
    string Side,
    int Conversations,
    int Completed,
    int Errors,
    string ErrorSamples,
    double WallSeconds,
    double TurnsPerSecond,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    double PeakWorkingSetMb,
    double BaselineWorkingSetMb,
    double AllocatedMbPerTurn,
    int Requests);

/// <summary>
/// The <c>scale</c> console mode: N concurrent conversations (default 1,000), each one tool-calling turn on a new
/// conversation (thread creation included), through the kit and through raw client code, against one in-process
/// emulator with zero emulated latency. Each side runs in its own child process so the peak working set is its own.
/// </summary>
/// <remarks>
/// Sides: <c>raw</c> (the official client with its default transport, hand-written turn), <c>kit</c> (the kit's own HTTP
/// stack from IHttpClientFactory, zero poll delays as in the turn benchmark), <c>kit-default-polling</c> (the kit's
/// default poll schedule: the turn's latency then includes the 200 ms first delay of each wait).
/// </remarks>
internal static class ScaleRunner
{
    public const string ChildMode = "scale-child";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static async Task<int> RunAsync(string[] args)
    {
        var conversations = Option(args, "--conversations", 1000);
        var sides = OptionText(args, "--sides", "raw,kit,kit-default-polling").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var results = new List<ScaleResult>();
        foreach (var side in sides)
        {
            var result = await RunChildProcessAsync(side, conversations).ConfigureAwait(false);
            if (result is null)
            {
                return 1;
            }

            results.Add(result);
        }

        Console.WriteLine();
        Console.WriteLine(Format(results));
        return results.All(r => r.Errors == 0 && r.Completed == r.Conversations) ? 0 : 1;
    }

    public static async Task<int> RunChildAsync(string[] args)
    {
        var side = OptionText(args, "--side", "kit");
        var conversations = Option(args, "--conversations", 1000);
        var result = await MeasureAsync(side, conversations).ConfigureAwait(false);
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, Json));
        return 0;
    }

    public static string Format(IReadOnlyList<ScaleResult> results)
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        var raw = results.FirstOrDefault(r => r.Side == "raw");
        text.AppendLine("| side | conversations | completed | errors | wall (s) | turns/s | ×raw | p50 (ms) | p99 (ms) | max (ms) | peak working set (MB) | ×raw | requests |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            var tps = raw is null ? "" : (r.TurnsPerSecond / raw.TurnsPerSecond).ToString("0.00", culture);
            var ws = raw is null ? "" : (r.PeakWorkingSetMb / raw.PeakWorkingSetMb).ToString("0.00", culture);
            text.AppendLine(culture, $"| {r.Side} | {r.Conversations} | {r.Completed} | {r.Errors} | {r.WallSeconds:0.00} | {r.TurnsPerSecond:0} | {tps} | {r.P50Ms:0} | {r.P99Ms:0} | {r.MaxMs:0} | {r.PeakWorkingSetMb:0} | {ws} | {r.Requests} |");
        }

        foreach (var r in results.Where(r => r.Errors > 0))
        {
            text.AppendLine(culture, $"{r.Side} errors: {r.ErrorSamples}");
        }

        return text.ToString();
    }

    private static async Task<ScaleResult?> RunChildProcessAsync(string side, int conversations)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var a in new[] { ChildMode, "--side", side, "--conversations", conversations.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        ScaleResult? result = null;
        while (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                result = JsonSerializer.Deserialize<ScaleResult>(line["RESULT ".Length..], Json);
            }
            else
            {
                Console.WriteLine(line);
            }
        }

        await child.WaitForExitAsync().ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (result is null || child.ExitCode != 0)
        {
            Console.Error.WriteLine($"The {side} side failed (exit code {child.ExitCode}): {errors}");
            return null;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{side}: {result.Completed}/{result.Conversations} completed, {result.Errors} errors, {result.TurnsPerSecond:0} turns/s, p50 {result.P50Ms:0} ms, p99 {result.P99Ms:0} ms, peak {result.PeakWorkingSetMb:0} MB"));
        return result;
    }

    private static async Task<ScaleResult> MeasureAsync(string side, int conversations)
    {
        await using var emulator = await AssistantsEmulator.StartAsync().ConfigureAwait(false);
        TurnScript.Apply(emulator.Script);

        // The kit with its own HTTP stack (IHttpClientFactory's handler, the resilience handler), not the bench handler.
        await using var kit = TurnScript.BuildKit(
            emulator.BaseUri,
            side == "kit-default-polling" ? o => o.Polling = new RunPollingOptions() : null,
            sameHandler: false);
        var runner = kit.GetRequiredService<AssistantRunner>();
        var assistantId = await runner.EnsureAssistantAsync().ConfigureAwait(false);

        // The raw side: the official client with its default transport, as an application would create it.
        var rawClient = new AssistantClient(
            new System.ClientModel.ApiKeyCredential(TurnScript.ApiKey), new AssistantClientOptions { Endpoint = emulator.BaseUri });
        using var raw = new RawTurnClient(emulator.BaseUri, assistantId);

        async Task TurnAsync(string key, CancellationToken cancellationToken)
        {
            if (side == "raw")
            {
                var thread = (await rawClient.CreateThreadAsync(new ThreadCreationOptions(), cancellationToken).ConfigureAwait(false)).Value.Id;
                _ = await RawTurnClient.PolledTurnAsync(rawClient, assistantId, thread, TurnScript.ToolMessage, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _ = await KitTurn.RunAsync(runner, TurnPath.Polled, key, TurnScript.ToolMessage, cancellationToken).ConfigureAwait(false);
            }
        }

        for (var i = 0; i < 32; i++)
        {
            await TurnAsync("warmup-" + i, CancellationToken.None).ConfigureAwait(false);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        emulator.Requests.Clear();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var baseline = self.WorkingSet64;
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var me = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                me.Refresh();
                peak = Math.Max(peak, me.WorkingSet64);
                try
                {
                    await Task.Delay(20, sampling.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latencies = new double[conversations];
        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var failed = 0;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var tasks = new Task[conversations];
        for (var i = 0; i < conversations; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await gate.Task.ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await TurnAsync("scale-" + index, limit.Token).ConfigureAwait(false);
                    latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
#pragma warning disable CA1031 // Every failure is counted and described, none is lost.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Interlocked.Increment(ref failed);
                    latencies[index] = double.NaN;
                    var description = ex.GetType().Name + ": " + ex.Message + (ex.InnerException is { } inner ? " <- " + inner.GetType().Name + ": " + inner.Message : "");
                    errors.AddOrUpdate(description, 1, (_, n) => n + 1);
                }
            });
        }

        var clock = Stopwatch.StartNew();
        gate.SetResult();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        var ok = latencies.Where(l => !double.IsNaN(l)).OrderBy(l => l).ToArray();
        return new ScaleResult(
            side,
            conversations,
            ok.Length,
            failed,
            string.Join(" | ", errors.OrderByDescending(e => e.Value).Take(3).Select(e => $"{e.Value}× {e.Key}")),
            clock.Elapsed.TotalSeconds,
            ok.Length / clock.Elapsed.TotalSeconds,
            Percentile(ok, 0.50),
            Percentile(ok, 0.99),
            ok.Length == 0 ? double.NaN : ok[^1],
            peak / 1048576.0,
            baseline / 1048576.0,
            allocated / 1048576.0 / conversations,
            emulator.Requests.All.Count);
    }

    private static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string OptionText(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
