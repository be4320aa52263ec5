using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

public sealed class RequestLogTests
{
    [Fact]
    public async Task EveryRequest_IsLoggedWithItsDetails()
    {
        await using var d = await RunDriver.StartAsync();
        d.Time.Advance(TimeSpan.FromSeconds(42));
        var (_, assistant) = await d.Http.PostJsonAsync("/assistants", new { model = "gpt-4o" });
        await d.Http.GetJsonAsync("/assistants?limit=5&order=asc");
        await d.Http.GetJsonAsync("/threads/thread_missing");
        await d.Http.PostJsonAsync("/threads", "{broken");

        var all = d.Emulator.Requests.All;
        Assert.Equal(4, all.Count);
        var create = all[0];
        Assert.Equal("POST", create.Method);
        Assert.Equal("/assistants", create.Path);
        Assert.Equal("", create.Query);
        Assert.Equal("gpt-4o", create.BodyAsJson().Str("model"));
        Assert.Equal(200, create.StatusCode);
        Assert.Equal(RunDriver.Start.AddSeconds(42), create.Timestamp);
        Assert.Contains(assistant.Str("id"), create.ResponseBody, StringComparison.Ordinal);
        Assert.False(create.ConnectionDropped);
        Assert.Null(create.Fault);
        Assert.Equal("?limit=5&order=asc", all[1].Query);
        Assert.Equal(404, all[2].StatusCode);
        Assert.Equal(400, all[3].StatusCode);
        Assert.Null(all[3].BodyAsJson());

        Assert.Equal(1, d.Emulator.Requests.Count("GET", "/*"));
        Assert.Equal(1, d.Emulator.Requests.Count("GET", "/assistants"));
        Assert.Equal(1, d.Emulator.Requests.Count("get", "/v1/threads/*"));
        Assert.Single(d.Emulator.Requests.Where(r => r.StatusCode == 404));
        d.Emulator.Requests.Clear();
        Assert.Empty(d.Emulator.Requests.All);
    }
}
