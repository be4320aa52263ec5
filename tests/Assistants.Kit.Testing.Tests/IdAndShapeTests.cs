using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

public sealed class IdAndShapeTests
{
    [Fact]
    public async Task Ids_HaveTheRealFormat_AndAreUnique()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default().CallTools(("f", "{}"));
        using var http = Emulators.Http(emulator);
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add((await http.PostJsonAsync("/assistants", new { model = "m" })).Body.Str("id"));
        }

        var run = (await http.PostJsonAsync("/threads/runs", new { assistant_id = ids[0], thread = new { messages = new[] { new { role = "user", content = "x" } } } })).Body!;
        var waiting = (await http.GetJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}")).Body!;
        var message = (await http.GetJsonAsync($"/threads/{run.Str("thread_id")}/messages")).Body.Str("data.0.id");
        var step = (await http.GetJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/steps")).Body.Str("data.0.id");
        Assert.All(ids, id => Assert.Matches("^asst_[A-Za-z0-9]{24}$", id));
        Assert.Matches("^thread_[A-Za-z0-9]{24}$", run.Str("thread_id"));
        Assert.Matches("^run_[A-Za-z0-9]{24}$", run.Str("id"));
        Assert.Matches("^msg_[A-Za-z0-9]{24}$", message);
        Assert.Matches("^step_[A-Za-z0-9]{24}$", step);
        Assert.Matches("^call_[A-Za-z0-9]{24}$", RunDriver.CallIds(waiting)[0]);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task BaseUri_IsLoopbackV1_OnAFreePort()
    {
        await using var a = await AssistantsEmulator.StartAsync();
        await using var b = await AssistantsEmulator.StartAsync();
        Assert.Equal("127.0.0.1", a.BaseUri.Host);
        Assert.Equal("/v1", a.BaseUri.AbsolutePath);
        Assert.NotEqual(a.BaseUri.Port, b.BaseUri.Port);
    }

    [Fact]
    public void ShapeComparison_DetectsMissingExtraAndTypeDifferences()
    {
        var recorded = JsonNode.Parse("""{"a":1,"b":"x","c":[{"k":1}],"d":null}""");
        Assert.Empty(JsonShape.Compare(recorded, JsonNode.Parse("""{"a":2,"b":"y","c":[{"k":5},{"k":6}],"d":null}""")));
        Assert.Equal(
            ["$.a: missing in emulator", "$.b: type recorded string, emulator number", "$.c[*].k: type recorded number, emulator string", "$.d: type recorded null, emulator object", "$.e: extra in emulator"],
            JsonShape.Compare(recorded, JsonNode.Parse("""{"b":1,"c":[{"k":"s"}],"d":{},"e":true}""")));
    }
}
