using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

public sealed class DurableStateTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "assistants-emulator-tests", Guid.NewGuid().ToString("N"));

    private string StatePath => Path.Combine(_directory, "state.json");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task StatePath_RoundTrips_AndARerunContinuesTheConversation()
    {
        string assistantId, threadId;
        var firstIds = new HashSet<string>();
        await using (var first = await AssistantsEmulator.StartAsync(new() { StatePath = StatePath }))
        {
            using var http = Emulators.Http(first);
            assistantId = (await http.PostJsonAsync("/assistants", new { model = "gpt-4o", name = "kept" })).Body.Str("id");
            threadId = (await http.PostJsonAsync("/threads", new { messages = new[] { new { role = "user", content = "first question" } }, metadata = new { user = "u1" } })).Body.Str("id");
            Assert.Contains(threadId, await File.ReadAllTextAsync(StatePath), StringComparison.Ordinal); // written after each change
            var run = (await http.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = assistantId })).Body!;
            Assert.Equal("completed", (await http.GetJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}")).Body.Str("status"));
            foreach (var m in (await http.GetJsonAsync($"/threads/{threadId}/messages")).Body!["data"]!.AsArray())
            {
                firstIds.Add(m.Str("id"));
            }

            firstIds.UnionWith([assistantId, threadId, run.Str("id")]);
        }

        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));

        await using var second = await AssistantsEmulator.StartAsync(new() { StatePath = StatePath });
        using var again = Emulators.Http(second);
        Assert.Equal("kept", (await again.GetJsonAsync($"/assistants/{assistantId}")).Body.Str("name"));
        Assert.Equal("u1", (await again.GetJsonAsync($"/threads/{threadId}")).Body.Str("metadata.user"));
        Assert.Equal(2, (await again.GetJsonAsync($"/threads/{threadId}/messages")).Body!["data"]!.AsArray().Count);

        var message = (await again.PostJsonAsync($"/threads/{threadId}/messages", new { role = "user", content = "second question" })).Body!;
        var rerun = (await again.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = assistantId })).Body!;
        await again.GetJsonAsync($"/threads/{threadId}/runs/{rerun.Str("id")}");
        var latest = (await again.GetJsonAsync($"/threads/{threadId}/messages?limit=1")).Body!;
        Assert.Equal("Emulated reply to \"second question\". This thread holds 1 earlier user message.", latest.Str("data.0.content.0.text.value"));
        Assert.DoesNotContain(message.Str("id"), firstIds);
        Assert.DoesNotContain(rerun.Str("id"), firstIds);
    }

    [Fact]
    public async Task ACorruptStateFile_FailsTheStartWithAClearError()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(StatePath, "{ not a state");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => AssistantsEmulator.StartAsync(new() { StatePath = StatePath }));
        Assert.Contains("state.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnActiveRun_SurvivesARestart_AndSettlesAfterIt()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(RunDriver.Start);
        string threadId, runId;
        await using (var first = await AssistantsEmulator.StartAsync(new() { StatePath = StatePath, TimeProvider = time, InProgressDuration = TimeSpan.FromSeconds(5) }))
        {
            using var http = Emulators.Http(first);
            var assistant = (await http.PostJsonAsync("/assistants", new { model = "gpt-4o" })).Body.Str("id");
            threadId = (await http.PostJsonAsync("/threads", new { messages = new[] { new { role = "user", content = "q" } } })).Body.Str("id");
            runId = (await http.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = assistant })).Body.Str("id");
            Assert.Equal("in_progress", (await http.GetJsonAsync($"/threads/{threadId}/runs/{runId}")).Body.Str("status"));
        }

        time.Advance(TimeSpan.FromSeconds(5));
        await using var second = await AssistantsEmulator.StartAsync(new() { StatePath = StatePath, TimeProvider = time });
        using var again = Emulators.Http(second);
        Assert.Equal("completed", (await again.GetJsonAsync($"/threads/{threadId}/runs/{runId}")).Body.Str("status"));
    }
}
