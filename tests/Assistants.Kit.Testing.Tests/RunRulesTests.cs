using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

/// <summary>The real service's rules around active runs and tool outputs, with its exact messages.</summary>
public sealed class RunRulesTests
{
    [Fact]
    public async Task AddingAMessageWhileARunIsActive_IsRejected()
    {
        await using var d = await RunDriver.StartAsync(o => o.InProgressDuration = TimeSpan.FromSeconds(10));
        var thread = await d.ThreadAsync("x");
        var run = await d.CreateRunAsync(thread, new { assistant_id = await d.AssistantAsync() });
        var (status, error) = await d.Http.PostJsonAsync($"/threads/{thread}/messages", new { role = "user", content = "more" });
        Assert.Equal(400, status);
        Assert.Equal($"Can't add messages to {thread} while a run {run.Str("id")} is active.", error.Str("error.message"));
        Assert.Equal("invalid_request_error", error.Str("error.type"));

        d.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(200, (await d.Http.PostJsonAsync($"/threads/{thread}/messages", new { role = "user", content = "more" })).Status);
    }

    [Fact]
    public async Task ASecondRunWhileOneIsActive_IsRejected()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.OnRun(1).CallTools(("t", "{}"));
        var assistant = await d.AssistantAsync();
        var thread = await d.ThreadAsync("x");
        var run = await d.CreateRunAsync(thread, new { assistant_id = assistant });
        var (status, error) = await d.Http.PostJsonAsync($"/threads/{thread}/runs", new { assistant_id = assistant });
        Assert.Equal(400, status);
        Assert.Equal($"Thread {thread} already has an active run {run.Str("id")}.", error.Str("error.message"));
    }

    [Fact]
    public async Task ToolOutputs_ForARunNotRequiringAction_AreRejected()
    {
        await using var d = await RunDriver.StartAsync(o => o.InProgressDuration = TimeSpan.FromSeconds(10));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        await d.GetRunAsync(run);
        var (status, error) = await d.SubmitAsync(run, ("call_Vfq8wpokTGewt0ubGCkeuwo1", "{}"));
        Assert.Equal(400, status);
        Assert.Equal("Runs in status \"in_progress\" do not accept tool outputs.", error.Str("error.message"));
        Assert.Null(error!["error"]!["code"]);
    }

    [Fact]
    public async Task ToolOutputs_MustMatchThePendingCallsExactly()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().CallTools(("a", "{}"), ("b", "{}"));
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        var waiting = await d.GetRunAsync(run);
        var ids = RunDriver.CallIds(waiting);

        var (missing, missingError) = await d.SubmitAsync(waiting, (ids[0], "1"));
        Assert.Equal(400, missing);
        Assert.Equal($"Expected tool outputs for call_ids ['{ids[0]}', '{ids[1]}'], got ['{ids[0]}']", missingError.Str("error.message"));

        var (extra, extraError) = await d.SubmitAsync(waiting, (ids[0], "1"), (ids[1], "2"), ("call_other", "3"));
        Assert.Equal(400, extra);
        Assert.Contains("got [", extraError.Str("error.message"), StringComparison.Ordinal);

        Assert.Equal(400, (await d.SubmitAsync(waiting, (ids[0], "1"), (ids[0], "1"))).Status);
        Assert.Equal("requires_action", (await d.GetRunAsync(run)).Str("status"));
        Assert.Equal(200, (await d.SubmitAsync(waiting, (ids[1], "2"), (ids[0], "1"))).Status);
    }

    [Fact]
    public async Task RunOnAnEmptyThreadWithoutInstructions_IsInvalidThread()
    {
        await using var d = await RunDriver.StartAsync();
        var thread = await d.ThreadAsync();
        var (status, error) = await d.Http.PostJsonAsync($"/threads/{thread}/runs", new { assistant_id = await d.AssistantAsync() });
        Assert.Equal(400, status);
        Assert.Equal("Run creation requires a Thread with a user message or an assistant with instructions.", error.Str("error.message"));
        Assert.Equal("invalid_thread", error.Str("error.code"));

        var withInstructions = await d.AssistantAsync(new { model = "gpt-4o", instructions = "Be brief." });
        Assert.Equal(200, (await d.Http.PostJsonAsync($"/threads/{thread}/runs", new { assistant_id = withInstructions })).Status);
    }

    [Fact]
    public async Task RunModify_ChangesMetadataOnly_AndValidatesIt()
    {
        await using var d = await RunDriver.StartAsync();
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        var path = $"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}";
        var (status, modified) = await d.Http.PostJsonAsync(path, new { metadata = new { k = "v" } });
        Assert.Equal(200, status);
        Assert.Equal("v", modified.Str("metadata.k"));
        var (bad, error) = await d.Http.PostJsonAsync(path, new { metadata = new { modified = true } });
        Assert.Equal(400, bad);
        Assert.Equal("invalid_type", error.Str("error.code"));
        Assert.Equal(400, (await d.Http.PostJsonAsync(path, new { model = "x" })).Status);
    }
}
