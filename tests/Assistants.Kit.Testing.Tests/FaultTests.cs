using System.ClientModel;
using System.Net;
using Assistants.Kit.Testing.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Testing.Tests;

public sealed class FaultTests
{
    [Fact]
    public async Task RespondWith429_SendsRetryHeadersAndOpenAIErrorBody_AndDoesNotApplyTheRequest()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Faults.On("POST", "/threads").OnNth(1).RespondWith(429, retryAfterSeconds: 2, retryAfterMs: 250);
        using var http = Emulators.Http(emulator);

        using var response = await http.PostAsync("threads", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("250", response.Headers.GetValues("retry-after-ms").Single());
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("rate_limit_exceeded", body.Str("error.code"));
        Assert.Equal("requests", body.Str("error.type"));
        Assert.Null(body["error"]!["param"]);

        var (status, thread) = await http.PostJsonAsync("/threads");
        Assert.Equal(200, status);
        Assert.StartsWith("thread_", thread.Str("id"));
        Assert.Equal([429, 200], emulator.Requests.Where("POST", "/threads").Select(r => r.StatusCode));
    }

    [Theory]
    [InlineData(500, "server_error")]
    [InlineData(502, "cf_bad_gateway")]
    [InlineData(503, "server_error")]
    public async Task RespondWith5xx_UsesTheServiceEnvelope(int status, string type)
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Faults.On("GET", "/assistants").RespondWith(status);
        using var http = Emulators.Http(emulator);
        var (actual, body) = await http.GetJsonAsync("/assistants");
        Assert.Equal(status, actual);
        Assert.Equal(type, body.Str("error.type"));
        Assert.False(string.IsNullOrEmpty(body.Str("error.message")));
    }

    [Fact]
    public async Task Selection_OnNthFirstNAndEvery_CountMatchingRequests()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var nth = emulator.Faults.On("GET", "/assistants").OnNth(2).RespondWith(500);
        var first = emulator.Faults.On("GET", "/threads/*").FirstN(2).RespondWith(503);
        using var http = Emulators.Http(emulator);
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await http.GetJsonAsync("/assistants")).Status);
        }

        Assert.Equal([200, 500, 200], statuses);
        Assert.Equal(3, nth.Matches);
        Assert.Equal(1, nth.Triggered);

        var threadStatuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            threadStatuses.Add((await http.GetJsonAsync("/threads/thread_x")).Status);
        }

        Assert.Equal([503, 503, 404], threadStatuses);
        Assert.Equal(2, first.Triggered);

        emulator.Faults.Clear();
        emulator.Faults.On("GET", "/v1/assistants").Every().RespondWith(502);
        Assert.Equal(502, (await http.GetJsonAsync("/assistants")).Status);
        Assert.Equal(502, (await http.GetJsonAsync("/assistants")).Status);
    }

    [Fact]
    public async Task Delay_WaitsOnTheTimeProvider()
    {
        var time = new FakeTimeProvider();
        await using var emulator = await AssistantsEmulator.StartAsync(new() { TimeProvider = time });
        emulator.Faults.On("POST", "/threads").Delay(TimeSpan.FromSeconds(30));
        using var http = Emulators.Http(emulator);

        var pending = http.PostJsonAsync("/threads");
        await WaitUntilAsync(() => emulator.Requests.Count("POST", "/threads") == 1);
        Assert.False(pending.IsCompleted);
        Assert.Equal(0, emulator.Requests.All[0].StatusCode);
        time.Advance(TimeSpan.FromSeconds(30));
        var (status, _) = await pending;
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task DropConnection_FailsTheClient_AndLeavesTheStateUnchanged()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Faults.On("POST", "/assistants").OnNth(1).DropConnection();
        using var http = Emulators.Http(emulator);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostJsonAsync("/assistants", new { model = "gpt-4o" }));
        var (_, list) = await http.GetJsonAsync("/assistants");
        Assert.Empty(list!["data"]!.AsArray());
        var logged = emulator.Requests.Where("POST", "/assistants")[0];
        Assert.True(logged.ConnectionDropped);
        Assert.Equal(0, logged.StatusCode);
        Assert.NotNull(logged.Fault);
    }

    [Fact]
    public async Task DropConnection_OnAReusedConnection_IsNotRetriedTransparently()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        Assert.Equal(200, (await http.GetJsonAsync("/assistants")).Status); // the pooled connection now exists
        emulator.Faults.On("POST", "/assistants").OnNth(1).CommitThenDrop();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostJsonAsync("/assistants", new { model = "gpt-4o" }));
        Assert.Equal(1, emulator.Requests.Count("POST", "/assistants"));
    }

    [Fact]
    public async Task CommitThenDrop_FailsTheClient_ButTheRequestTookEffect()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Faults.On("POST", "/assistants").OnNth(1).CommitThenDrop();
        using var http = Emulators.Http(emulator);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostJsonAsync("/assistants", new { model = "gpt-4o", name = "committed" }));
        var (_, list) = await http.GetJsonAsync("/assistants");
        Assert.Equal("committed", list.Str("data.0.name"));
        var logged = emulator.Requests.Where("POST", "/assistants").Single();
        Assert.True(logged.ConnectionDropped);
        Assert.Equal(200, logged.StatusCode);
    }

    [Fact]
    public async Task CommitThenDrop_OnCreateRun_TheOfficialClientSeesAnErrorButTheRunExists()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var client = Emulators.Client(emulator);
        var assistant = (await client.CreateAssistantAsync("gpt-4o")).Value;
        var thread = (await client.CreateThreadAsync(new OpenAI.Assistants.ThreadCreationOptions { InitialMessages = { "hi" } })).Value;
        emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).CommitThenDrop();

        var error = await Record.ExceptionAsync(() => client.CreateRunAsync(thread.Id, assistant.Id));
        Assert.True(error is ClientResultException or HttpRequestException or IOException, error?.ToString());
        var runs = new List<OpenAI.Assistants.ThreadRun>();
        await foreach (var run in client.GetRunsAsync(thread.Id))
        {
            runs.Add(run);
        }

        Assert.Single(runs);
    }

    [Fact]
    public async Task PollAfter_AddsTheHeaderToRunResponses()
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { PollAfter = TimeSpan.FromMilliseconds(1500) });
        using var http = Emulators.Http(emulator);
        var (_, assistant) = await http.PostJsonAsync("/assistants", new { model = "gpt-4o" });
        var (_, run) = await http.PostJsonAsync("/threads/runs", new { assistant_id = assistant.Str("id"), thread = new { messages = new[] { new { role = "user", content = "hi" } } } });
        using var response = await http.GetAsync($"threads/{run.Str("thread_id")}/runs/{run.Str("id")}");
        Assert.Equal("1500", response.Headers.GetValues("openai-poll-after-ms").Single());
        using var other = await http.GetAsync("assistants");
        Assert.False(other.Headers.Contains("openai-poll-after-ms"));
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
