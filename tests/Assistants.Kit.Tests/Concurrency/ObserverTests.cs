using System.Collections.Concurrent;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Concurrency;

public sealed class ObserverTests
{
    private sealed class Recorder : IConversationObserver
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public ValueTask OnThreadCreatedAsync(ConversationThreadEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"thread.created {e.ConversationKey} {e.ThreadId} {e.Reason}");
            return ValueTask.CompletedTask;
        }

        public ValueTask OnThreadRolledOverAsync(ConversationThreadEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"thread.rolled_over {e.ConversationKey} {e.PreviousThreadId}->{e.ThreadId} {e.Reason}");
            return ValueTask.CompletedTask;
        }

        public ValueTask OnRunStartedAsync(ConversationRunEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"run.started {e.RunId} {e.Status.ToWireString()}");
            return ValueTask.CompletedTask;
        }

        public ValueTask OnRunFinishedAsync(ConversationRunEvent e, CancellationToken cancellationToken)
        {
            Events.Enqueue($"run.finished {e.RunId} {e.Status.ToWireString()}");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Throwing : IConversationObserver
    {
        public ValueTask OnRunStartedAsync(ConversationRunEvent e, CancellationToken cancellationToken) => throw new InvalidOperationException("observer bug");
    }

    [Fact]
    public async Task Observers_SeeEachEventOnce_ForCompletedFailedAndReplacedThreads()
    {
        var recorder = new Recorder();
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddConversationObserver(recorder).AddConversationObserver<Throwing>());
        kit.Emulator.Script.OnRun(2).Fail("server_error", "x");

        var first = await kit.Runner.RunAsync("k", "one");
        await Assert.ThrowsAsync<RunFailedException>(() => kit.Runner.RunAsync("k", "two"));
        using (var http = new HttpClient())
        {
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"{kit.Emulator.BaseUri}/threads/{first.ThreadId}");
            delete.Headers.Add("OpenAI-Beta", "assistants=v2");
            (await http.SendAsync(delete)).EnsureSuccessStatusCode();
        }

        var third = await kit.Runner.RunAsync("k", "three");

        var runs = kit.Emulator.Requests.Where("POST", "/threads/*/runs").Select(r => System.Text.Json.Nodes.JsonNode.Parse(r.ResponseBody!)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(
            [
                $"thread.created k {first.ThreadId} created",
                $"run.started {runs[0]} queued",
                $"run.finished {runs[0]} completed",
                $"run.started {runs[1]} queued",
                $"run.finished {runs[1]} failed",
                $"thread.rolled_over k {first.ThreadId}->{third.ThreadId} not_found",
                $"run.started {runs[2]} queued",
                $"run.finished {runs[2]} completed",
            ],
            recorder.Events);
        Assert.Contains(kit.Services.LogLines(), l => l.Contains("observer Throwing failed in OnRunStartedAsync", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CallerCancellation_RaisesRunFinishedWithTheLastStatus()
    {
        var recorder = new Recorder();
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(5), fakeTime: true, kit: k => k.AddConversationObserver(recorder));
        using var cts = new CancellationTokenSource();
        var run = kit.Runner.RunAsync("k", "slow", cancellationToken: cts.Token);
        await Waiting.UntilAsync(() => recorder.Events.Any(e => e.StartsWith("run.started", StringComparison.Ordinal)));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Single(recorder.Events, e => e.StartsWith("run.finished", StringComparison.Ordinal) && e.EndsWith("cancelling", StringComparison.Ordinal));
    }
}
