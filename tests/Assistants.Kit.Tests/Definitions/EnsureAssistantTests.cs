using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Definitions;

public sealed class EnsureAssistantTests
{
    private static AssistantDefinition Definition(string instructions = "Be helpful.") => new()
    {
        Name = "support",
        Model = "gpt-4.1-mini",
        Instructions = instructions,
    };

    [Fact]
    public async Task Ensure_Twice_CreatesOnce_AndTheSecondCallSendsNothing()
    {
        await using var kit = await EmulatorKit.StartAsync();

        var first = await kit.Runner.EnsureAssistantAsync(Definition());
        var requestsAfterFirst = kit.Emulator.Requests.All.Count;
        var second = await kit.Runner.EnsureAssistantAsync(Definition());

        Assert.Equal(first, second);
        Assert.Equal(requestsAfterFirst, kit.Emulator.Requests.All.Count);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/assistants"));
        var body = kit.Emulator.Requests.Where("POST", "/assistants").Single().BodyAsJson()!;
        Assert.Equal("support", body["metadata"]!["kit_def_name"]!.GetValue<string>());
        Assert.Equal(16, body["metadata"]!["kit_def_version"]!.GetValue<string>().Length);
        Assert.Null(body["temperature"]); // not set, not sent (o-series models reject it)
        Assert.Null(body["top_p"]);
        Assert.Null(body["reasoning_effort"]);
    }

    [Fact]
    public async Task Ensure_SendsReasoningEffortAndTemperatureOnlyWhenSet()
    {
        await using var kit = await EmulatorKit.StartAsync();
        var definition = Definition();
        definition.ReasoningEffort = "low";
        definition.Temperature = 0.2f;
        definition.ResponseFormat = "json_object";

        await kit.Runner.EnsureAssistantAsync(definition);

        var body = kit.Emulator.Requests.Where("POST", "/assistants").Single().BodyAsJson()!;
        Assert.Equal("low", body["reasoning_effort"]!.GetValue<string>());
        Assert.Equal(0.2, body["temperature"]!.GetValue<double>(), 3);
        Assert.Equal("json_object", body["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task NewProcess_FindsTheAssistantByItsHash_WithoutCreating()
    {
        await using var kit = await EmulatorKit.StartAsync();
        var id = await kit.Runner.EnsureAssistantAsync(Definition());

        await using var other = kit.NewKit(); // a new process: empty store, empty cache
        kit.Emulator.Requests.Clear();
        var found = await other.GetRequiredService<AssistantRunner>().EnsureAssistantAsync(Definition());

        Assert.Equal(id, found);
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/assistants"));
        Assert.Equal(1, kit.Emulator.Requests.Count("GET", "/assistants"));
    }

    [Fact]
    public async Task StoredId_IsUsed_WhenTheStoreRemembersIt()
    {
        var store = new InMemoryConversationStore();
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddSingleton<IConversationStore>(store));
        var id = await kit.Runner.EnsureAssistantAsync(Definition());

        await using var other = kit.NewKit(services: s => s.AddSingleton<IConversationStore>(store));
        kit.Emulator.Requests.Clear();
        var again = await other.GetRequiredService<AssistantRunner>().EnsureAssistantAsync(Definition());

        Assert.Equal(id, again);
        Assert.Equal(["GET /assistants/" + id], kit.Emulator.Requests.All.Select(r => $"{r.Method} {r.Path}"));
    }

    [Fact]
    public async Task ChangedDefinition_UpdatesTheSameAssistant_AndTheVersionChanges()
    {
        await using var kit = await EmulatorKit.StartAsync();
        var id = await kit.Runner.EnsureAssistantAsync(Definition("Version one."));
        var v1 = kit.Emulator.Requests.Where("POST", "/assistants").Single().BodyAsJson()!["metadata"]!["kit_def_version"]!.GetValue<string>();

        var updated = await kit.Runner.EnsureAssistantAsync(Definition("Version two."));

        Assert.Equal(id, updated);
        var modify = kit.Emulator.Requests.Where("POST", "/assistants/" + id).Single().BodyAsJson()!;
        Assert.Equal("Version two.", modify["instructions"]!.GetValue<string>());
        Assert.NotEqual(v1, modify["metadata"]!["kit_def_version"]!.GetValue<string>());
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/assistants"));

        // Runs record the definition version they used.
        var result = await kit.Runner.RunAsync("k", "hi", new RunOptions { Assistant = Definition("Version two.") });
        Assert.Equal(modify["metadata"]!["kit_def_version"]!.GetValue<string>(), result.DefinitionVersion);
    }

    [Theory]
    [InlineData("instructions")]
    [InlineData("tool")]
    [InlineData("metadata")]
    [InlineData("temperature")]
    public async Task SameDefinitionInstance_ChangedInPlace_IsSeen_AndUpdatesTheAssistant(string change)
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<Protocols.ScenarioTools>(), services: s => s.AddSingleton<Protocols.ScenarioProbe>());
        var definition = Definition();
        var first = await kit.Runner.RunAsync("k", "hi", new RunOptions { Assistant = definition });
        var unchanged = await kit.Runner.RunAsync("k", "hi", new RunOptions { Assistant = definition });
        Assert.Equal(first.DefinitionVersion, unchanged.DefinitionVersion);

        switch (change)
        {
            case "instructions": definition.Instructions = "Be brief."; break;
            case "tool": definition.Tools.Add(definition.Tools.Count == 0 ? "get_weather" : "add"); break;
            case "metadata": definition.Metadata["team"] = "support"; break;
            default: definition.Temperature = 0.2f; break;
        }

        var changed = await kit.Runner.RunAsync("k", "hi", new RunOptions { Assistant = definition });

        Assert.NotEqual(first.DefinitionVersion, changed.DefinitionVersion);
        var modify = Assert.Single(kit.Emulator.Requests.Where("POST", "/assistants/" + first.AssistantId)).BodyAsJson()!;
        Assert.Equal(changed.DefinitionVersion, (string?)modify["metadata"]!["kit_def_version"]);
    }

    [Fact]
    public async Task TwoProcessesRacing_ConvergeOnOneAssistant()
    {
        await using var kit = await EmulatorKit.StartAsync();
        await using var a = kit.NewKit();
        await using var b = kit.NewKit();
        var runnerA = a.GetRequiredService<AssistantRunner>();
        var runnerB = b.GetRequiredService<AssistantRunner>();

        // Hold both scans until both have started, so both see no assistant and both create one.
        kit.Emulator.Faults.On("GET", "/assistants").FirstN(2).Delay(TimeSpan.FromMilliseconds(300));
        await Task.WhenAll(runnerA.EnsureAssistantAsync(Definition()), runnerB.EnsureAssistantAsync(Definition()));

        using var http = new HttpClient();
        using var list = new HttpRequestMessage(HttpMethod.Get, $"{kit.Emulator.BaseUri}/assistants?limit=100");
        list.Headers.Add("OpenAI-Beta", "assistants=v2");
        var remaining = JsonNode.Parse(await (await http.SendAsync(list)).Content.ReadAsStringAsync())!["data"]!.AsArray();
        Assert.Single(remaining);
        // Usually both created one (the delayed scans overlap) and the duplicate was deleted; under heavy load the second
        // scan may already see the first assistant. Either way exactly one is left.
        var created = kit.Emulator.Requests.Count("POST", "/assistants");
        Assert.InRange(created, 1, 2);
        Assert.Equal(created - 1, kit.Emulator.Requests.Where("DELETE", "/assistants/*").Count(r => r.StatusCode == 200));

        // Both end up using the one that is left (one of them may discover on its next run that its own was removed).
        var resultA = await runnerA.RunAsync("a", "hi", new RunOptions { Assistant = Definition() });
        var resultB = await runnerB.RunAsync("b", "hi", new RunOptions { Assistant = Definition() });
        var log = string.Join("\n", kit.Emulator.Requests.All.Select(r => $"{r.Timestamp:HH:mm:ss.fff} {r}"));
        Assert.True(resultA.AssistantId == remaining[0]!["id"]!.GetValue<string>() && resultB.AssistantId == resultA.AssistantId, log + $"\nA={resultA.AssistantId} B={resultB.AssistantId}");
        Assert.Equal(remaining[0]!["id"]!.GetValue<string>(), resultA.AssistantId);
        Assert.Equal(remaining[0]!["id"]!.GetValue<string>(), resultB.AssistantId);
    }

    [Fact]
    public async Task DefinitionNamingAnUnregisteredTool_FailsClearly()
    {
        await using var kit = await EmulatorKit.StartAsync();
        var definition = Definition();
        definition.Tools.Add("no_such_tool");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => kit.Runner.EnsureAssistantAsync(definition));

        Assert.Contains("no_such_tool", ex.Message, StringComparison.Ordinal);
        Assert.Empty(kit.Emulator.Requests.All);
    }
}
