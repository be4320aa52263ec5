using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Runs;

/// <summary>The run engine over the wire against the emulator: every status, polling, cancellation, re-runs, 404s.</summary>
public sealed class AssistantRunnerTests
{
    [Fact]
    public async Task RunAsync_HappyPath_ReturnsReplyWithIdsUsageAndTheMinimumRequests()
    {
        await using var kit = await EmulatorKit.StartAsync();

        var result = await kit.Runner.RunAsync("user-1", "Hello there");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(EmulatorScript.DefaultReply("Hello there", 0), result.Text);
        Assert.StartsWith("thread_", result.ThreadId, StringComparison.Ordinal);
        Assert.StartsWith("run_", result.RunId, StringComparison.Ordinal);
        Assert.StartsWith("asst_", result.AssistantId, StringComparison.Ordinal);
        Assert.Equal("user-1", result.ConversationKey);
        Assert.NotNull(result.Usage);
        Assert.True(result.Usage!.Value.InputTokens > 0 && result.Usage.Value.OutputTokens > 0);
        Assert.NotNull(result.DefinitionVersion);
        Assert.Single(result.Messages);
        Assert.Equal("assistant", result.Messages[0].Role);

        var log = kit.Emulator.Requests;
        Assert.Equal(1, log.Count("POST", "/assistants"));
        Assert.Equal(1, log.Count("POST", "/threads"));
        Assert.Equal(1, log.Count("POST", "/threads/*/messages"));
        Assert.Equal(1, log.Count("POST", "/threads/*/runs"));
        Assert.Equal(1, log.Count("GET", "/threads/*/messages"));
        Assert.Equal(1, log.Count("GET", "/threads/*/runs/*/steps"));

        // A second message on the same key: same thread, no thread or assistant request, and the model sees the history.
        log.Clear();
        var second = await kit.Runner.RunAsync("user-1", "Still there?");
        Assert.Equal(result.ThreadId, second.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("Still there?", 1), second.Text);
        Assert.Equal(0, log.Count("POST", "/threads"));
        Assert.Equal(0, log.Count("POST", "/assistants"));
        Assert.Equal(0, log.Count("GET", "/assistants"));

        var binding = await kit.Store.GetAsync("user-1", AssistantsProtocol.Assistants);
        Assert.NotNull(binding);
        Assert.Equal(result.ThreadId, binding!.ThreadId);
        Assert.Equal(4, binding.MessageCount);
        Assert.Null(binding.ActiveRunId);
        Assert.Equal(RunStatus.Completed, binding.ActiveRunStatus);
    }

    [Fact]
    public async Task RunAsync_SendsRunDefaultsOnEveryRun_AndPerRunOverridesWin()
    {
        await using var kit = await EmulatorKit.StartAsync(o =>
        {
            o.RunDefaults.MaxCompletionTokens = 700;
            o.RunDefaults.MaxPromptTokens = 9000;
            o.RunDefaults.TruncationLastMessages = 12;
            o.RunDefaults.ParallelToolCalls = false;
        });

        await kit.Runner.RunAsync("k", "one");
        await kit.Runner.RunAsync("k", "two", new RunOptions { MaxCompletionTokens = 64, AdditionalInstructions = "Be terse." });

        var bodies = kit.Emulator.Requests.Where("POST", "/threads/*/runs").Select(r => r.BodyAsJson()!).ToList();
        Assert.Equal(700, bodies[0]["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(9000, bodies[0]["max_prompt_tokens"]!.GetValue<int>());
        Assert.Equal("last_messages", bodies[0]["truncation_strategy"]!["type"]!.GetValue<string>());
        Assert.Equal(12, bodies[0]["truncation_strategy"]!["last_messages"]!.GetValue<int>());
        Assert.False(bodies[0]["parallel_tool_calls"]!.GetValue<bool>());
        Assert.StartsWith("op_", bodies[0]["metadata"]!["kit_op"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(bodies[0]["metadata"]!["kit_def_version"]);
        Assert.Equal(64, bodies[1]["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(9000, bodies[1]["max_prompt_tokens"]!.GetValue<int>());
        Assert.Equal("Be terse.", bodies[1]["additional_instructions"]!.GetValue<string>());
    }

    [Fact]
    public async Task Failed_ThrowsWithLastErrorAndIds()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Script.OnRun(1).Fail("invalid_prompt", "The prompt was flagged.");

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => kit.Runner.RunAsync("k", "bad"));

        Assert.Equal("invalid_prompt", ex.Code);
        Assert.Equal("The prompt was flagged.", ex.Error.Message);
        Assert.StartsWith("run_", ex.RunId, StringComparison.Ordinal);
        Assert.StartsWith("thread_", ex.ThreadId, StringComparison.Ordinal);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // invalid_prompt is never re-run
        var binding = await kit.Store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Equal(RunStatus.Failed, binding!.ActiveRunStatus);
    }

    [Fact]
    public async Task Failed_WithRerunPolicy_RerunsTransientFailures_AndSumsUsage()
    {
        await using var kit = await EmulatorKit.StartAsync(o =>
        {
            o.FailedRunRetry.MaxAttempts = 2;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        kit.Emulator.Script.OnRun(1).Fail("rate_limit_exceeded", "Rate limit reached.");
        kit.Emulator.Script.OnRun(2).Fail("server_error", "Oops.");
        kit.Emulator.Script.OnRun(3).Reply("third time lucky");

        var result = await kit.Runner.RunAsync("k", "try");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("third time lucky", result.Text);
        var runs = kit.Emulator.Requests.Where("POST", "/threads/*/runs");
        Assert.Equal(3, runs.Count);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/messages")); // the message is not added again
        Assert.Equal(result.RunId, JsonNode.Parse(runs[2].ResponseBody!)!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Failed_RerunPolicyExhausted_Throws()
    {
        await using var kit = await EmulatorKit.StartAsync(o =>
        {
            o.FailedRunRetry.MaxAttempts = 1;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        kit.Emulator.Script.Default().Fail("server_error", "Down.");

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => kit.Runner.RunAsync("k", "try"));

        Assert.Equal(2, ex.Attempts);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/runs"));
    }

    [Fact]
    public async Task Incomplete_ReturnsResultFlaggedWithTheReason()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Script.OnRun(1).Reply("a long answer that gets cut").EndIncomplete("max_completion_tokens");

        var result = await kit.Runner.RunAsync("k", "write a lot");

        Assert.Equal(RunStatus.Incomplete, result.Status);
        Assert.Equal("max_completion_tokens", result.IncompleteReason);
        Assert.False(result.IsCompleted);
    }

    [Fact]
    public async Task Expired_ReturnsExpiredOutcome()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Script.OnRun(1).Expire();

        var result = await kit.Runner.RunAsync("k", "hello");

        Assert.Equal(RunStatus.Expired, result.Status);
    }

    [Fact]
    public async Task Cancelled_ByTheHandle_ReturnsCancelledOutcome()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(1), fakeTime: true);

        var operation = await kit.Runner.StartRunAsync("k", "slow one");
        await operation.CancelAsync();
        var result = await kit.DriveAsync(operation.WaitForCompletionAsync(), TimeSpan.FromMilliseconds(200));

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel"));
    }

    [Fact]
    public async Task CallerCancellation_CancelsTheRunOnTheServer_AndTheThreadStaysUsable()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(5), fakeTime: true);
        using var cts = new CancellationTokenSource();

        var operation = await kit.Runner.StartRunAsync("k", "slow");
        var wait = operation.WaitForCompletionAsync(cts.Token);
        kit.Time!.Advance(TimeSpan.FromSeconds(3));
        await Waiting.UntilAsync(() => kit.Emulator.Requests.Count("GET", "/threads/*/runs/*") >= 1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel"));

        // The run is no longer active: a new message on the same thread is accepted (the service rejects messages
        // while a run is active).
        kit.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var next = await kit.DriveAsync(kit.Runner.RunAsync("k", "next"), TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal(operation.ThreadId, next.ThreadId);
    }

    [Fact]
    public async Task CallerCancellation_NoServerCancel_WhenDisabled()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.CancelRunOnCallerCancellation = false, e => e.InProgressDuration = TimeSpan.FromMinutes(5), fakeTime: true);
        using var cts = new CancellationTokenSource();
        var operation = await kit.Runner.StartRunAsync("k", "slow");
        var wait = operation.WaitForCompletionAsync(cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel"));
    }

    [Fact]
    public async Task Deadline_CancelsTheRunAndThrowsTimeout()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Polling.Timeout = TimeSpan.FromSeconds(30), e => e.InProgressDuration = TimeSpan.FromMinutes(5), fakeTime: true);

        var ex = await Assert.ThrowsAsync<RunTimeoutException>(() => kit.DriveAsync(kit.Runner.RunAsync("k", "too slow"), TimeSpan.FromMilliseconds(500)));

        Assert.Equal(TimeSpan.FromSeconds(30), ex.Timeout);
        Assert.Equal(RunStatus.InProgress, ex.LastStatus);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        var created = kit.Emulator.Requests.Where("POST", "/threads/*/runs").Single().Timestamp;
        var cancelled = kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/cancel").Single().Timestamp;
        Assert.True(cancelled - created >= TimeSpan.FromSeconds(29), $"cancelled after {cancelled - created}"); // not before the deadline
    }

    [Fact]
    public async Task ExpiresAt_APollReachesTheExpiry_AndTheSecondBeforeTheServerExpiresTheRunIsNoHotLoop()
    {
        // The run is still in progress at its expires_at (10 minutes after creation, stated in whole seconds, so up to a
        // second before the server expires it): the kit must not sleep past the expiry, and in that last second it must
        // not poll back to back either.
        await using var kit = await EmulatorKit.StartAsync(
            o => o.Polling.Timeout = TimeSpan.FromMinutes(30),
            e => e.InProgressDuration = TimeSpan.FromMinutes(15),
            fakeTime: true);

        var result = await kit.DriveAsync(kit.Runner.RunAsync("k", "a very long job"), TimeSpan.FromMilliseconds(500), maxSteps: 20_000);

        Assert.Equal(RunStatus.Expired, result.Status);
        var created = kit.Emulator.Requests.Where("POST", "/threads/*/runs").Single().Timestamp;
        var polls = kit.Emulator.Requests.Where("GET", "/threads/*/runs/*").Select(r => r.Timestamp).ToList();
        var gaps = polls.Zip(polls.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, g => Assert.True(g >= TimeSpan.FromMilliseconds(100), $"two polls {g.TotalMilliseconds} ms apart"));
        Assert.InRange(polls.Count, 200, 330); // cold schedule, one poll per MaxColdDelay (2 s) ± jitter; a fixed 1 s poller: 600

        // The expiry is seen within about a second of the stated expires_at, not a whole backoff delay later.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((created + TimeSpan.FromMinutes(10)).ToUnixTimeSeconds());
        Assert.InRange(polls[^1] - expiresAt, TimeSpan.Zero, TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task ServerPollHint_IsHonouredExactly()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e =>
        {
            e.InProgressDuration = TimeSpan.FromSeconds(10);
            e.PollAfter = TimeSpan.FromMilliseconds(1500);
        }, fakeTime: true);

        await kit.DriveAsync(kit.Runner.RunAsync("k", "hint"), TimeSpan.FromMilliseconds(50));

        var polls = kit.Emulator.Requests.Where("GET", "/threads/*/runs/*").Select(r => r.Timestamp).ToList();
        Assert.True(polls.Count >= 5, $"polls: {polls.Count}");
        var gaps = polls.Zip(polls.Skip(1), (a, b) => b - a).ToList();
        // The hint, not the 200 ms initial delay: never earlier, and late only by the test driver's clock steps (50 ms).
        Assert.All(gaps, gap => Assert.InRange(gap.TotalMilliseconds, 1500, 1650));
    }

    [Fact]
    public async Task Polling_AdaptsToObservedDurations_FewerRequestsForLongRuns()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(60), fakeTime: true);

        // Warm up: the kit observes how long this assistant's runs take.
        for (var i = 0; i < 5; i++)
        {
            await kit.DriveAsync(kit.Runner.RunAsync("warm-" + i, "go"), TimeSpan.FromMilliseconds(100));
        }

        kit.Emulator.Requests.Clear();
        await kit.DriveAsync(kit.Runner.RunAsync("measured", "go"), TimeSpan.FromMilliseconds(100));

        var polls = kit.Emulator.Requests.Where("GET", "/threads/*/runs/*");
        Assert.InRange(polls.Count, 2, 30); // a fixed 1 s poller makes ~60 requests for a 60 s run
        var created = kit.Emulator.Requests.Where("POST", "/threads/*/runs").Single().Timestamp;
        var lag = polls.Last().Timestamp - (created + TimeSpan.FromSeconds(60));
        Assert.InRange(lag.TotalSeconds, 0, 1.7); // detected within one dense interval
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoredThreadGoneOnTheServer_IsReplacedWithANewThread_AndRecordedInHistory(bool streamed)
    {
        await using var kit = await EmulatorKit.StartAsync();
        var first = await kit.Runner.RunAsync("k", "hello");
        using (var http = new HttpClient())
        {
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"{kit.Emulator.BaseUri}/threads/{first.ThreadId}");
            delete.Headers.Add("OpenAI-Beta", "assistants=v2");
            delete.Headers.Add("Authorization", "Bearer x");
            (await http.SendAsync(delete)).EnsureSuccessStatusCode();
        }

        var second = streamed
            ? await kit.Runner.StreamAsync("k", "are you there?", new RunStreamHandler())
            : await kit.Runner.RunAsync("k", "are you there?");

        Assert.Equal(RunStatus.Completed, second.Status);
        Assert.NotEqual(first.ThreadId, second.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("are you there?", 0), second.Text);
        var binding = await kit.Store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Equal(second.ThreadId, binding!.ThreadId);
        Assert.Equal([first.ThreadId], binding.PreviousThreadIds);
        Assert.Contains(kit.Services.LogLines(), l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(first.ThreadId, StringComparison.Ordinal) && l.Contains("no longer exists", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoredAssistantGoneOnTheServer_IsEnsuredAgain(bool streamed)
    {
        await using var kit = await EmulatorKit.StartAsync();
        var first = await kit.Runner.RunAsync("k", "hello");
        using (var http = new HttpClient())
        {
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"{kit.Emulator.BaseUri}/assistants/{first.AssistantId}");
            delete.Headers.Add("OpenAI-Beta", "assistants=v2");
            (await http.SendAsync(delete)).EnsureSuccessStatusCode();
        }

        var second = streamed
            ? await kit.Runner.StreamAsync("k", "again", new RunStreamHandler())
            : await kit.Runner.RunAsync("k", "again");

        Assert.Equal(RunStatus.Completed, second.Status);
        Assert.Equal(EmulatorScript.DefaultReply("again", 1), second.Text);
        Assert.NotEqual(first.AssistantId, second.AssistantId);
        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/assistants"));
        Assert.Contains(kit.Services.LogLines(), l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains($"The stored assistant {first.AssistantId} for definition", StringComparison.Ordinal)
            && l.Contains("no longer exists on the server", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AttachRun_FromAnotherRunner_WaitsForTheSameRun()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(20), fakeTime: true);
        var operation = await kit.Runner.StartRunAsync("k", "long job");

        // "Crash": a new runner (new process) re-attaches from the stored IDs.
        await using var other = kit.NewKit();
        var attached = other.GetRequiredService<AssistantRunner>().AttachRun(operation.ThreadId, operation.Id, "k");
        Assert.Equal(RunStatus.InProgress, await attached.UpdateStatusAsync());
        var result = await kit.DriveAsync(attached.WaitForCompletionAsync(), TimeSpan.FromMilliseconds(500));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(operation.Id, result.RunId);
        Assert.Equal(EmulatorScript.DefaultReply("long job", 0), result.Text);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs"));
    }

    [Fact]
    public async Task RunOperation_UpdateStatus_ReadsOnce()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(10), fakeTime: true);
        var operation = await kit.Runner.StartRunAsync("k", "x");
        Assert.Equal(RunStatus.Queued, operation.Status);
        Assert.False(operation.HasCompleted);

        kit.Time!.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.InProgress, await operation.UpdateStatusAsync());
        kit.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(RunStatus.Completed, await operation.UpdateStatusAsync());
        Assert.True(operation.HasCompleted);
        Assert.Equal(2, kit.Emulator.Requests.Count("GET", "/threads/*/runs/*"));
    }

    [Theory]
    [InlineData("", "hi")]
    [InlineData("k", " ")]
    public async Task RunAsync_EmptyKeyOrMessage_Throws(string key, string message)
    {
        await using var kit = await EmulatorKit.StartAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => kit.Runner.RunAsync(key, message));
        Assert.Empty(kit.Emulator.Requests.All);
    }

    [Fact]
    public async Task Unauthorized_ThrowsServerException_WithoutTheKeyAnywhere()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.ApiKey = "sk-the-right-key-000000000000");

        var ex = await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Runner.RunAsync("k", "hi"));

        Assert.Equal(401, ex.Status);
        Assert.Equal("invalid_api_key", ex.ErrorCode);
        Assert.Contains("Incorrect API key provided", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(KitServices.TestApiKey, ex.ToString(), StringComparison.Ordinal);
        Assert.All(kit.Services.LogLines(), l => Assert.DoesNotContain(KitServices.TestApiKey, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheKey_NeverAppearsInLogs_OfAFullRunWithRetriesAndReconciliation()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1));
        kit.Emulator.Faults.On("GET", "/threads/*/runs/*").OnNth(1).RespondWith(503);
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).CommitThenDrop();

        var result = await kit.Runner.RunAsync("k", "hello");

        Assert.Equal(RunStatus.Completed, result.Status);
        var lines = kit.Services.LogLines();
        Assert.Contains(lines, l => l.Contains("Retrying GET", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("reconciling", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain(KitServices.TestApiKey, l, StringComparison.Ordinal));
    }
}
