using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenAI.Assistants;
using OpenAI.Conversations;

namespace Assistants.Kit.Tests.Migration;

/// <summary>
/// Two emulators, one per protocol, each demanding its own key: the source (threads) and the target (conversations),
/// and a kit with the migrator pointed at both. Dispose to stop everything.
/// </summary>
internal sealed class MigrationHarness : IAsyncDisposable
{
    public const string SourceKey = "sk-source-0123456789SOURCESECRET";
    public const string TargetKey = "sk-target-0123456789TARGETSECRET";

    private MigrationHarness(AssistantsEmulator source, AssistantsEmulator target, ServiceProvider services)
    {
        Source = source;
        Target = target;
        Services = services;
        SourceClient = new AssistantClient(new ApiKeyCredential(SourceKey), new AssistantClientOptions { Endpoint = source.BaseUri });
        TargetClient = new ConversationClient(new ApiKeyCredential(TargetKey), new ConversationClientOptions { Endpoint = target.BaseUri });
    }

    public AssistantsEmulator Source { get; }

    public AssistantsEmulator Target { get; }

    public ServiceProvider Services { get; }

    public AssistantClient SourceClient { get; }

    public ConversationClient TargetClient { get; }

    public ThreadMigrator Migrator => Services.GetRequiredService<ThreadMigrator>();

    public IConversationStore Store => Services.GetRequiredService<IConversationStore>();

    public static async Task<MigrationHarness> StartAsync(Action<ThreadMigratorOptions>? configure = null)
    {
        var source = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = SourceKey });
        var target = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = TargetKey });
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        services.AddAssistantsKit(o =>
        {
            o.Endpoint = target.BaseUri;
            o.ApiKey = TargetKey;
            o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        });
        services.AddAssistantsKitMigration(o =>
        {
            o.Source.Endpoint = source.BaseUri;
            o.Source.ApiKey = SourceKey;
            o.Target.Endpoint = target.BaseUri;
            o.Target.ApiKey = TargetKey;
            configure?.Invoke(o);
        });
        return new MigrationHarness(source, target, services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
    }

    /// <summary>Creates a thread on the source with the messages, in order.</summary>
    public async Task<string> CreateThreadAsync(params (string Role, string Text)[] messages)
    {
        var thread = (await SourceClient.CreateThreadAsync()).Value;
        await AddMessagesAsync(thread.Id, messages);
        return thread.Id;
    }

    public async Task AddMessagesAsync(string threadId, params (string Role, string Text)[] messages)
    {
        foreach (var (role, text) in messages)
        {
            await SourceClient.CreateMessageAsync(threadId, role == "assistant" ? MessageRole.Assistant : MessageRole.User, [MessageContent.FromText(text)]);
        }
    }

    /// <summary>Creates a message from raw JSON (content parts, attachments) on the source.</summary>
    public async Task<string> AddRawMessageAsync(string threadId, JsonObject body)
    {
        var result = await SourceClient.CreateMessageAsync(threadId, BinaryContent.Create(BinaryData.FromString(body.ToJsonString())), new RequestOptions());
        return JsonNode.Parse(result.GetRawResponse().Content)!["id"]!.GetValue<string>();
    }

    /// <summary>Runs the assistant on a source thread to its end, answering any tool call; returns the run's ID.</summary>
    public async Task<string> RunToEndAsync(string threadId, string assistantId)
    {
        var run = (await SourceClient.CreateRunAsync(threadId, assistantId)).Value;
        for (var i = 0; i < 50; i++)
        {
            run = (await SourceClient.GetRunAsync(threadId, run.Id)).Value;
            if (run.Status == OpenAI.Assistants.RunStatus.RequiresAction)
            {
                await SourceClient.SubmitToolOutputsToRunAsync(threadId, run.Id, run.RequiredActions.Select(a => new ToolOutput(a.ToolCallId, """{"status":"shipped"}""")));
            }
            else if (run.Status.IsTerminal)
            {
                Assert.Equal(OpenAI.Assistants.RunStatus.Completed, run.Status);
                return run.Id;
            }
        }

        throw new InvalidOperationException("The run did not end.");
    }

    /// <summary>Creates a source thread whose one run used the code interpreter (logs and a chart); returns the thread and run IDs.</summary>
    public async Task<(string ThreadId, string RunId)> CreateCodeInterpreterThreadAsync()
    {
        var assistant = (await SourceClient.CreateAssistantAsync("gpt-4.1-mini", new AssistantCreationOptions { Tools = { ToolDefinition.CreateCodeInterpreter() } })).Value;
        var thread = await CreateThreadAsync(("user", "What is 1+1? Plot it."));
        Source.Script.OnRun(1).RunCode("print(1+1)\nplot()", logs: "2", image: true).Reply("It is 2.");
        return (thread, await RunToEndAsync(thread, assistant.Id));
    }

    /// <summary>Binds a conversation key to a thread under the Assistants protocol, as the kit would have.</summary>
    public Task<ConversationBinding> BindAsync(string key, string threadId) =>
        Store.SaveAsync(new ConversationBinding { ConversationKey = key, Protocol = AssistantsProtocol.Assistants, ThreadId = threadId, MessageCount = 1 }).AsTask();

    /// <summary>Every item of a target conversation, oldest first.</summary>
    public async Task<List<JsonObject>> ItemsAsync(string conversationId)
    {
        var items = new List<JsonObject>();
        await foreach (var page in TargetClient.GetConversationItemsAsync(conversationId, 100, "asc", null, null, new RequestOptions()).GetRawPagesAsync())
        {
            items.AddRange(JsonNode.Parse(page.GetRawResponse().Content)!["data"]!.AsArray().OfType<JsonObject>());
        }

        return items;
    }

    /// <summary>Every item of a target conversation as "role: text" lines.</summary>
    public async Task<List<string>> TranscriptAsync(string conversationId) =>
        [.. (await ItemsAsync(conversationId)).Select(i => $"{i["role"]}: {string.Join(" + ", i["content"]!.AsArray().OfType<JsonObject>().Select(Part))}")];

    public async Task<Dictionary<string, string>> ConversationMetadataAsync(string conversationId)
    {
        var result = await TargetClient.GetConversationAsync(conversationId, new RequestOptions());
        return JsonNode.Parse(result.GetRawResponse().Content)!["metadata"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
    }

    /// <summary>Requests that changed something (not GET).</summary>
    public static List<RecordedRequest> Writes(AssistantsEmulator emulator) =>
        [.. emulator.Requests.All.Where(r => r.Method != "GET")];

    public IReadOnlyList<string> LogLines() =>
        [.. Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Select(r => $"{r.Level} {r.Id.Id} {r.Message} {r.Exception}")];

    private static string Part(JsonObject part) => part["type"]!.GetValue<string>() switch
    {
        "input_image" => $"image({part["file_id"]?.GetValue<string>() ?? part["image_url"]?.GetValue<string>()})",
        "refusal" => $"refusal({part["refusal"]})",
        _ => part["text"]!.GetValue<string>(),
    };

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Source.DisposeAsync();
        await Target.DisposeAsync();
    }
}
