using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

/// <summary>Every transition of the run state machine, driven by a FakeTimeProvider (no sleeping).</summary>
public sealed class RunStateMachineTests
{
    [Fact]
    public async Task ZeroDurations_CreateAnswersQueued_AndTheNextReadSeesTheSettledRun()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync();
        var thread = await d.ThreadAsync("hello");
        var run = await d.CreateRunAsync(thread, new { assistant_id = assistant });
        Assert.Equal("queued", run.Str("status"));
        Assert.Null(run["usage"]);
        Assert.Equal(RunDriver.StartSeconds + 600, (long)run["expires_at"]!);

        var settled = await d.GetRunAsync(run);
        Assert.Equal("completed", settled.Str("status"));
        Assert.Equal(RunDriver.StartSeconds, (long)settled["started_at"]!);
        Assert.Equal(RunDriver.StartSeconds, (long)settled["completed_at"]!);
        Assert.Null(settled["expires_at"]);
        Assert.NotNull(settled["usage"]);
    }

    [Fact]
    public async Task Timed_QueuedThenInProgressThenCompleted_WithScheduledTimestamps()
    {
        await using var d = await RunDriver.StartAsync(o =>
        {
            o.QueuedDuration = TimeSpan.FromSeconds(2);
            o.InProgressDuration = TimeSpan.FromSeconds(5);
        });
        var run = await d.CreateRunAsync(await d.ThreadAsync("hello"), new { assistant_id = await d.AssistantAsync() });
        Assert.Equal("queued", (await d.GetRunAsync(run)).Str("status"));

        d.Time.Advance(TimeSpan.FromSeconds(2));
        var inProgress = await d.GetRunAsync(run);
        Assert.Equal("in_progress", inProgress.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 2, (long)inProgress["started_at"]!);
        Assert.Null(inProgress["usage"]);
        Assert.Single(await d.MessagesAsync(run.Str("thread_id")));

        d.Time.Advance(TimeSpan.FromSeconds(100)); // read late: the run still completed at its scheduled time
        var done = await d.GetRunAsync(run);
        Assert.Equal("completed", done.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 7, (long)done["completed_at"]!);
        var messages = await d.MessagesAsync(run.Str("thread_id"));
        Assert.Equal(2, messages.Count);
        Assert.Equal(RunDriver.StartSeconds + 7, (long)messages[1]["created_at"]!);
    }

    [Fact]
    public async Task ToolRound_RequiresAction_ThenSubmit_RequeuesAndCompletes()
    {
        await using var d = await RunDriver.StartAsync(o =>
        {
            o.QueuedDuration = TimeSpan.FromSeconds(1);
            o.InProgressDuration = TimeSpan.FromSeconds(1);
        });
        d.Emulator.Script.Default().CallTools(("get_weather", """{"city":"Oslo"}""")).Reply(ctx => $"It is {ctx.ToolOutputs["get_weather"]}.");
        var run = await d.CreateRunAsync(await d.ThreadAsync("weather?"), new { assistant_id = await d.AssistantAsync() });
        d.Time.Advance(TimeSpan.FromSeconds(2));
        var waiting = await d.GetRunAsync(run);
        Assert.Equal("requires_action", waiting.Str("status"));
        Assert.Equal("submit_tool_outputs", waiting.Str("required_action.type"));
        Assert.Equal("get_weather", waiting.Str("required_action.submit_tool_outputs.tool_calls.0.function.name"));
        Assert.Equal("""{"city":"Oslo"}""", waiting.Str("required_action.submit_tool_outputs.tool_calls.0.function.arguments"));
        Assert.Null(waiting["usage"]);

        d.Time.Advance(TimeSpan.FromSeconds(10));
        var (status, submitted) = await d.SubmitAsync(waiting, (RunDriver.CallIds(waiting)[0], "sunny"));
        Assert.Equal(200, status);
        Assert.Equal("queued", submitted.Str("status"));
        Assert.Null(submitted!["required_action"]);

        d.Time.Advance(TimeSpan.FromSeconds(1));
        var resumed = await d.GetRunAsync(run);
        Assert.Equal("in_progress", resumed.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 13, (long)resumed["started_at"]!);

        d.Time.Advance(TimeSpan.FromSeconds(1));
        var done = await d.GetRunAsync(run);
        Assert.Equal("completed", done.Str("status"));
        Assert.Equal("It is sunny.", RunDriver.Text((await d.MessagesAsync(run.Str("thread_id")))[^1]));

        var steps = await d.StepsAsync(run);
        Assert.Equal(["tool_calls", "message_creation"], steps.Select(s => s.Str("type")));
        Assert.Equal("sunny", steps[0].Str("step_details.tool_calls.0.function.output"));
        Assert.Equal("completed", steps[0].Str("status"));
        Assert.NotNull(steps[0]["usage"]);
        Assert.Null(steps[0]["expires_at"]);
    }

    [Fact]
    public async Task ToolOutputsNotSubmitted_ExpireAtTheDeadline()
    {
        await using var d = await RunDriver.StartAsync(o => o.RequiresActionTimeout = TimeSpan.FromMinutes(10));
        d.Emulator.Script.Default().CallTools(("slow", "{}"));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        Assert.Equal("requires_action", (await d.GetRunAsync(run)).Str("status"));

        d.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal("requires_action", (await d.GetRunAsync(run)).Str("status"));
        d.Time.Advance(TimeSpan.FromSeconds(1));
        var expired = await d.GetRunAsync(run);
        Assert.Equal("expired", expired.Str("status"));
        Assert.Null(expired["required_action"]);
        Assert.NotNull(expired["usage"]);
        Assert.Equal("expired", (await d.StepsAsync(run))[0].Str("status"));

        var (status, error) = await d.SubmitAsync(expired, ("call_x", "late"));
        Assert.Equal(400, status);
        Assert.Equal("Runs in status \"expired\" do not accept tool outputs.", error.Str("error.message"));
    }

    [Fact]
    public async Task Cancel_GoesThroughCancellingToCancelled()
    {
        await using var d = await RunDriver.StartAsync(o =>
        {
            o.InProgressDuration = TimeSpan.FromSeconds(30);
            o.CancellingDuration = TimeSpan.FromSeconds(3);
        });
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        d.Time.Advance(TimeSpan.FromSeconds(1));
        var (_, cancelling) = await d.Http.PostJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/cancel");
        Assert.Equal("cancelling", cancelling.Str("status"));
        Assert.Null(cancelling!["cancelled_at"]);
        Assert.Equal("cancelling", (await d.GetRunAsync(run)).Str("status"));

        d.Time.Advance(TimeSpan.FromSeconds(3));
        var cancelled = await d.GetRunAsync(run);
        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 4, (long)cancelled["cancelled_at"]!);
        d.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(await d.MessagesAsync(run.Str("thread_id"))); // no reply after cancellation

        var (status, error) = await d.Http.PostJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/cancel");
        Assert.Equal(400, status);
        Assert.Equal("Cannot cancel run with status 'cancelled'.", error.Str("error.message"));
    }

    [Fact]
    public async Task Cancel_WhileRequiringAction_CancelsThePendingToolStep()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().CallTools(("t", "{}"));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        Assert.Equal("requires_action", (await d.GetRunAsync(run)).Str("status"));
        await d.Http.PostJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/cancel");
        Assert.Equal("cancelled", (await d.GetRunAsync(run)).Str("status"));
        Assert.Equal("cancelled", (await d.StepsAsync(run))[0].Str("status"));
    }

    [Fact]
    public async Task CancelAFinishedRun_IsRejected()
    {
        await using var d = await RunDriver.StartAsync();
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        await d.GetRunAsync(run);
        var (status, error) = await d.Http.PostJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/cancel");
        Assert.Equal(400, status);
        Assert.Equal("Cannot cancel run with status 'completed'.", error.Str("error.message"));
    }

    [Theory]
    [InlineData("server_error", "Sorry, something went wrong.")]
    [InlineData("rate_limit_exceeded", "You exceeded your current quota, please check your plan and billing details.")]
    [InlineData("invalid_prompt", "Your prompt was flagged as potentially violating our usage policy.")]
    public async Task ScriptedFailure_EndsFailedWithLastError(string code, string message)
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Fail(code);
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        var failed = await d.GetRunAsync(run);
        Assert.Equal("failed", failed.Str("status"));
        Assert.Equal(code, failed.Str("last_error.code"));
        Assert.Equal(message, failed.Str("last_error.message"));
        Assert.Equal(RunDriver.StartSeconds, (long)failed["failed_at"]!);
        Assert.NotNull(failed["usage"]);
    }

    [Fact]
    public async Task ScriptedExpiry_EndsExpiredWithoutWaiting()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Expire();
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        Assert.Equal("expired", (await d.GetRunAsync(run)).Str("status"));
    }

    [Fact]
    public async Task MaxCompletionTokens_EndsIncompleteWithATruncatedReply()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Reply(new string('a', 400));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync(), max_completion_tokens = 16 });
        var done = await d.GetRunAsync(run);
        Assert.Equal("incomplete", done.Str("status"));
        Assert.Equal("max_completion_tokens", done.Str("incomplete_details.reason"));
        Assert.Equal(16, (int)done["usage"]!["completion_tokens"]!);
        Assert.Equal(64, RunDriver.Text((await d.MessagesAsync(run.Str("thread_id")))[^1]).Length);
    }

    [Fact]
    public async Task MaxPromptTokens_EndsIncompleteWithoutAReply()
    {
        await using var d = await RunDriver.StartAsync();
        var run = await d.CreateRunAsync(await d.ThreadAsync(new string('q', 2000)), new { assistant_id = await d.AssistantAsync(), max_prompt_tokens = 256 });
        var done = await d.GetRunAsync(run);
        Assert.Equal("incomplete", done.Str("status"));
        Assert.Equal("max_prompt_tokens", done.Str("incomplete_details.reason"));
        Assert.Single(await d.MessagesAsync(run.Str("thread_id")));
    }

    [Theory]
    [InlineData("max_completion_tokens")]
    [InlineData("max_prompt_tokens")]
    public async Task ScriptedIncomplete_UsesTheGivenReason(string reason)
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Reply("one two three four").EndIncomplete(reason);
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        var done = await d.GetRunAsync(run);
        Assert.Equal("incomplete", done.Str("status"));
        Assert.Equal(reason, done.Str("incomplete_details.reason"));
        var messages = await d.MessagesAsync(run.Str("thread_id"));
        Assert.Equal(reason == "max_completion_tokens" ? 2 : 1, messages.Count);
        if (reason == "max_completion_tokens")
        {
            Assert.Equal("one two t", RunDriver.Text(messages[^1]));
        }
    }

    [Fact]
    public async Task Taking_OverridesTheStepDurationForThatRun()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Taking(TimeSpan.FromSeconds(20));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        Assert.Equal("in_progress", (await d.GetRunAsync(run)).Str("status"));
        d.Time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal("in_progress", (await d.GetRunAsync(run)).Str("status"));
        d.Time.Advance(TimeSpan.FromSeconds(1));
        var done = await d.GetRunAsync(run);
        Assert.Equal("completed", done.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 20, (long)done["completed_at"]!);
    }

    [Fact]
    public async Task SlowRunPastItsDeadline_Expires()
    {
        await using var d = await RunDriver.StartAsync(o => o.RequiresActionTimeout = TimeSpan.FromMinutes(1));
        d.Emulator.Script.Default().Taking(TimeSpan.FromMinutes(5));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        d.Time.Advance(TimeSpan.FromMinutes(2));
        var expired = await d.GetRunAsync(run);
        Assert.Equal("expired", expired.Str("status"));
        Assert.Equal(RunDriver.StartSeconds + 60, (long)expired["expires_at"]!);
    }
}
