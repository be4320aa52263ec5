using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI.Assistants;

namespace Assistants.Kit.Tests.Migration;

/// <summary>
/// Thread → conversation migration over the wire: a source emulator speaking Assistants v2 and a target emulator speaking
/// Responses + Conversations, each with its own key.
/// </summary>
public sealed class ThreadMigratorTests
{
    [Fact]
    public async Task MigrateAsync_CarriesEveryRoleInOrder_RecordsTheMapping_AndSwitchesTheBinding()
    {
        await using var h = await MigrationHarness.StartAsync(o => o.BatchSize = 2);
        var orderThread = await h.CreateThreadAsync(
            ("user", "Where is my order 42?"),
            ("assistant", "Order 42 shipped yesterday."),
            ("user", "When will it arrive?"),
            ("assistant", "On Friday."),
            ("user", "Thanks!"));
        var refundThread = await h.CreateThreadAsync(("user", "I want a refund."), ("assistant", "Refund issued."));
        var orderBinding = await h.BindAsync("customer-1", orderThread);
        await h.BindAsync("customer-2", refundThread);
        h.Source.Requests.Clear();

        var summary = await h.Migrator.MigrateAllAsync();

        Assert.True(summary.Succeeded);
        Assert.Equal(["customer-1", "customer-2"], summary.Threads.Select(t => t.ConversationKey));
        var order = summary.Threads[0];
        Assert.Equal(ThreadMigrationStatus.Migrated, order.Status);
        Assert.Equal(orderThread, order.ThreadId);
        Assert.True(order.ConversationCreated);
        Assert.True(order.BindingSwitched);
        Assert.Equal(5, order.MessagesCarried);
        Assert.Equal(0, order.MessagesAlreadyCarried);
        Assert.Empty(order.NotCarried);
        Assert.StartsWith("conv_", order.ConversationId, StringComparison.Ordinal);
        Assert.Equal(7, summary.MessagesCarried);

        Assert.Equal(
            ["user: Where is my order 42?", "assistant: Order 42 shipped yesterday.", "user: When will it arrive?", "assistant: On Friday.", "user: Thanks!"],
            await h.TranscriptAsync(order.ConversationId!));
        var items = await h.ItemsAsync(order.ConversationId!);
        Assert.All(items, i => Assert.Equal("message", i["type"]!.GetValue<string>()));
        Assert.Equal(["input_text", "output_text", "input_text", "output_text", "input_text"], items.Select(i => i["content"]![0]!["type"]!.GetValue<string>()));
        Assert.Equal(["user: I want a refund.", "assistant: Refund issued."], await h.TranscriptAsync(summary.Threads[1].ConversationId!));

        // Batches of two: three item writes for five messages, each followed by the progress on the conversation.
        Assert.Equal(3 + 1, h.Target.Requests.Count("POST", "/conversations/*/items"));
        var metadata = await h.ConversationMetadataAsync(order.ConversationId!);
        Assert.Equal(orderThread, metadata[ThreadMigrator.SourceThreadMetadataKey]);
        Assert.Equal("5", metadata[ThreadMigrator.CarriedMetadataKey]);
        Assert.Equal(items[^1]["id"]!.GetValue<string>(), metadata[ThreadMigrator.LastItemMetadataKey]);

        // The mapping and the switched Responses binding; the Assistants binding is left as it was.
        var mapping = await h.Store.GetAsync(ThreadMigrator.MappingKeyPrefix + orderThread, AssistantsProtocol.Responses);
        Assert.Equal(order.ConversationId, mapping!.ThreadId);
        Assert.Equal([orderThread], mapping.PreviousThreadIds);
        Assert.Equal(5, mapping.MessageCount);
        var responses = await h.Store.GetAsync("customer-1", AssistantsProtocol.Responses);
        Assert.Equal(order.ConversationId, responses!.ThreadId);
        Assert.Equal([orderThread], responses.PreviousThreadIds);
        Assert.Equal(5, responses.MessageCount);
        Assert.Equal(orderBinding, await h.Store.GetAsync("customer-1", AssistantsProtocol.Assistants));

        // Only reads went to the source, and nothing carries a key.
        Assert.Empty(MigrationHarness.Writes(h.Source));
        Assert.DoesNotContain(h.LogLines(), l => l.Contains("SECRET", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MigrateThreadAsync_CarriesImagesWhereRepresentable_AndReportsWhatIsNot()
    {
        await using var h = await MigrationHarness.StartAsync();
        var assistant = (await h.SourceClient.CreateAssistantAsync("gpt-4.1-mini", new AssistantCreationOptions
        {
            Tools = { ToolDefinition.CreateFunction("lookup_order", "Looks an order up.", BinaryData.FromString("""{"type":"object","properties":{"id":{"type":"string"}}}""")) },
        })).Value;
        var thread = (await h.SourceClient.CreateThreadAsync()).Value.Id;
        var userMessage = await h.AddRawMessageAsync(thread, JsonNode.Parse("""
            {
              "role": "user",
              "content": [
                { "type": "text", "text": "Is this my parcel?" },
                { "type": "image_url", "image_url": { "url": "https://example.com/parcel.png", "detail": "low" } },
                { "type": "image_file", "image_file": { "file_id": "file-mapped" } },
                { "type": "image_file", "image_file": { "file_id": "file-sourceonly" } }
              ],
              "attachments": [ { "file_id": "file-invoice", "tools": [ { "type": "file_search" } ] } ],
              "metadata": { "channel": "web", "kit_op": "op_1" }
            }
            """)!.AsObject());
        h.Source.Script.OnRun(1)
            .CallTools(("lookup_order", """{"id":"42"}"""))
            .Reply("Yes, see the label [1].")
            .WithAnnotation("[1]", "file-label")
            .WithImageFile("file-chart");
        var runId = await h.RunToEndAsync(thread, assistant.Id);
        var onlyImage = await h.AddRawMessageAsync(thread, JsonNode.Parse("""{ "role": "user", "content": [ { "type": "image_file", "image_file": { "file_id": "file-other" } } ] }""")!.AsObject());

        var options = new MigrationOptions();
        options.FileIdMap["file-mapped"] = "file-on-target";
        var report = await h.Migrator.MigrateThreadAsync(thread, options);

        Assert.Equal(ThreadMigrationStatus.Migrated, report.Status);
        Assert.Equal(2, report.MessagesCarried);
        Assert.Equal(1, report.MessagesNotRepresentable);
        Assert.False(report.BindingSwitched);
        Assert.Equal(
            ["user: Is this my parcel? + image(https://example.com/parcel.png) + image(file-on-target)", "assistant: Yes, see the label [1]."],
            await h.TranscriptAsync(report.ConversationId!));
        var items = await h.ItemsAsync(report.ConversationId!);
        Assert.Equal("low", items[0]["content"]![1]!["detail"]!.GetValue<string>());

        var notCarried = report.NotCarried.Select(n => (n.Kind, n.MessageId, n.RunId)).ToList();
        Assert.Contains((NotCarriedKind.ImageFile, userMessage, (string?)null), notCarried);
        Assert.Contains((NotCarriedKind.Attachment, userMessage, (string?)null), notCarried);
        Assert.Single(report.NotCarried, n => n.Kind == NotCarriedKind.MessageMetadata && n.Detail.Contains("'channel'", StringComparison.Ordinal));
        Assert.Contains(notCarried, n => n.Kind == NotCarriedKind.Annotation && n.RunId == runId);
        Assert.Contains(notCarried, n => n.Kind == NotCarriedKind.ImageFile && n.RunId == runId);
        Assert.Contains((NotCarriedKind.FunctionCall, (string?)null, runId), notCarried);
        Assert.Contains((NotCarriedKind.ImageFile, onlyImage, (string?)null), notCarried);
        Assert.Contains((NotCarriedKind.EmptyMessage, onlyImage, (string?)null), notCarried);
        Assert.Contains(report.NotCarried, n => n.Detail.Contains("file-sourceonly", StringComparison.Ordinal) && n.Detail.Contains("only on the source", StringComparison.Ordinal));
        Assert.Contains(report.NotCarried, n => n.Kind == NotCarriedKind.FunctionCall && n.Detail.Contains("lookup_order", StringComparison.Ordinal));
        Assert.DoesNotContain(report.NotCarried, n => n.Detail.Contains("parcel?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CodeInterpreterRun_TextCarried_TheCallAndItsOutputsReportedAsNotCarried()
    {
        await using var h = await MigrationHarness.StartAsync();
        var (thread, runId) = await h.CreateCodeInterpreterThreadAsync();
        var steps = await h.SourceClient.GetRunStepsAsync(thread, runId).ToListAsync();
        var codeCall = Assert.Single(steps.SelectMany(s => s.Details.ToolCalls), c => c.CodeInterpreterInput is not null);
        var chart = codeCall.CodeInterpreterOutputs.Single(o => o.ImageFileId is not null).ImageFileId;

        // Without reading run steps (a dry run first) the call goes unnoticed: the report says only what it saw.
        var unread = await h.Migrator.MigrateThreadAsync(thread, new MigrationOptions { InspectRunSteps = false, DryRun = true });
        Assert.Equal(ThreadMigrationStatus.WouldMigrate, unread.Status);
        Assert.DoesNotContain(unread.NotCarried, n => n.Kind == NotCarriedKind.CodeInterpreter);

        var report = await h.Migrator.MigrateThreadAsync(thread);

        Assert.Equal(ThreadMigrationStatus.Migrated, report.Status);
        Assert.Equal(2, report.MessagesCarried);
        Assert.Equal(["user: What is 1+1? Plot it.", "assistant: It is 2."], await h.TranscriptAsync(report.ConversationId!));
        var code = Assert.Single(report.NotCarried, n => n.Kind == NotCarriedKind.CodeInterpreter);
        Assert.Equal((null, runId), (code.MessageId, code.RunId));
        Assert.Contains($"code interpreter call {codeCall.Id}", code.Detail, StringComparison.Ordinal);
        Assert.Contains("1 log output", code.Detail, StringComparison.Ordinal);
        Assert.Contains(chart, code.Detail, StringComparison.Ordinal);
        Assert.Contains(report.NotCarried, n => n.Kind == NotCarriedKind.ImageFile && n.RunId == runId); // the chart in the reply
        Assert.DoesNotContain(report.NotCarried, n => n.Detail.Contains("It is 2.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReRun_SkipsMigratedThreadsAndMessages_AndCarriesOnlyMessagesAddedSince()
    {
        await using var h = await MigrationHarness.StartAsync(o => o.BatchSize = 2);
        var thread = await h.CreateThreadAsync(("user", "one"), ("assistant", "two"), ("user", "three"));
        await h.BindAsync("k", thread);
        var first = await h.Migrator.MigrateAsync(["k"]);
        var conversation = first.Threads[0].ConversationId!;
        var switched = await h.Store.GetAsync("k", AssistantsProtocol.Responses);
        h.Target.Requests.Clear();
        h.Source.Requests.Clear();

        var again = await h.Migrator.MigrateAsync(["k"]);

        var report = Assert.Single(again.Threads);
        Assert.Equal(ThreadMigrationStatus.UpToDate, report.Status);
        Assert.Equal(conversation, report.ConversationId);
        Assert.Equal(0, report.MessagesCarried);
        Assert.Equal(3, report.MessagesAlreadyCarried);
        Assert.False(report.BindingSwitched);
        Assert.Empty(MigrationHarness.Writes(h.Target));
        Assert.Equal(1, h.Target.Requests.Count("GET", "/conversations/*"));
        Assert.Equal(switched, await h.Store.GetAsync("k", AssistantsProtocol.Responses));

        // A catch-up run carries what the thread received since, after what is there.
        await h.AddMessagesAsync(thread, ("assistant", "four"), ("user", "five"));
        var catchUp = (await h.Migrator.MigrateAsync(["k"])).Threads[0];

        Assert.Equal(ThreadMigrationStatus.Migrated, catchUp.Status);
        Assert.Equal(2, catchUp.MessagesCarried);
        Assert.Equal(3, catchUp.MessagesAlreadyCarried);
        Assert.False(catchUp.ConversationCreated);
        Assert.False(catchUp.BindingSwitched);
        Assert.Equal(["user: one", "assistant: two", "user: three", "assistant: four", "user: five"], await h.TranscriptAsync(conversation));
        Assert.Equal(0, h.Target.Requests.Count("POST", "/conversations"));
        Assert.Equal("5", (await h.ConversationMetadataAsync(conversation))[ThreadMigrator.CarriedMetadataKey]);
    }

    [Fact]
    public async Task AmbiguousBatchWrite_ThatLanded_IsAdoptedNotWrittenTwice()
    {
        await using var h = await MigrationHarness.StartAsync(o => o.BatchSize = 2);
        var thread = await h.CreateThreadAsync(("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d"), ("user", "e"));
        h.Target.Faults.On("POST", "/conversations/*/items").OnNth(2).CommitThenDrop();
        h.Target.Faults.On("POST", "/conversations/*/items").OnNth(3).RespondWith(500);

        var report = await h.Migrator.MigrateThreadAsync(thread);

        Assert.Equal(ThreadMigrationStatus.Migrated, report.Status);
        Assert.Equal(5, report.MessagesCarried);
        Assert.Equal(["user: a", "assistant: b", "user: c", "assistant: d", "user: e"], await h.TranscriptAsync(report.ConversationId!));
        var posts = h.Target.Requests.Where("POST", "/conversations/*/items");
        Assert.Equal(4, posts.Count); // batch 1; batch 2 (landed, connection dropped: adopted); batch 3 (500: not applied) and its re-send
        Assert.True(posts[1].ConnectionDropped);
        Assert.Equal(500, posts[2].StatusCode);
        Assert.Contains(h.LogLines(), l => l.Contains(" 1002 ", StringComparison.Ordinal)); // the kit reconciler's "had landed; adopted"
    }

    [Fact]
    public async Task FailureHalfWay_ThenResume_ContinuesAfterTheLastCarriedMessage_WithoutDuplicates()
    {
        await using var h = await MigrationHarness.StartAsync(o => o.BatchSize = 2);
        string[] texts = ["m1", "m2", "m3", "m4", "m5", "m6", "m7"];
        var thread = await h.CreateThreadAsync([.. texts.Select((t, i) => (i % 2 == 0 ? "user" : "assistant", t))]);
        await h.BindAsync("k", thread);

        // The second batch lands but its answer is lost, and the target then fails every read of the items: the
        // migration cannot tell whether the batch landed and stops with the progress recorded after the first batch.
        h.Target.Faults.On("POST", "/conversations/*/items").OnNth(2).CommitThenDrop();
        h.Target.Faults.On("GET", "/conversations/*/items").RespondWith(503);
        var failed = (await h.Migrator.MigrateAsync(["k"])).Threads[0];

        Assert.Equal(ThreadMigrationStatus.Failed, failed.Status);
        Assert.Null(failed.EndpointFailure);
        Assert.Contains("Target: HTTP 503", failed.Error, StringComparison.Ordinal);
        Assert.Equal(2, failed.MessagesCarried);
        var conversation = failed.ConversationId!;
        h.Target.Faults.Clear();
        Assert.Equal(["user: m1", "assistant: m2", "user: m3", "assistant: m4"], await h.TranscriptAsync(conversation));
        Assert.Equal("2", (await h.ConversationMetadataAsync(conversation))[ThreadMigrator.CarriedMetadataKey]);
        Assert.Null(await h.Store.GetAsync("k", AssistantsProtocol.Responses)); // not switched to a half-carried conversation

        h.Target.Requests.Clear();
        var resumed = (await h.Migrator.MigrateAsync(["k"])).Threads[0];

        Assert.Equal(ThreadMigrationStatus.Migrated, resumed.Status);
        Assert.Equal(conversation, resumed.ConversationId);
        Assert.False(resumed.ConversationCreated);
        Assert.Equal(2, resumed.MessagesAlreadyCarried);
        Assert.Equal(5, resumed.MessagesCarried); // m3 and m4 adopted, m5–m7 written
        Assert.True(resumed.BindingSwitched);
        Assert.Equal(texts.Select((t, i) => $"{(i % 2 == 0 ? "user" : "assistant")}: {t}"), await h.TranscriptAsync(conversation));
        Assert.Equal(2, h.Target.Requests.Count("POST", "/conversations/*/items")); // m5+m6, m7
        Assert.Equal(0, h.Target.Requests.Count("POST", "/conversations"));
        Assert.Equal("7", (await h.ConversationMetadataAsync(conversation))[ThreadMigrator.CarriedMetadataKey]);
        Assert.Equal(conversation, (await h.Store.GetAsync("k", AssistantsProtocol.Responses))!.ThreadId);
    }

    [Fact]
    public async Task DryRun_ReportsWhatWouldBeDone_AndWritesNothing()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"), ("assistant", "hi"), ("user", "bye"));
        await h.BindAsync("k", thread);
        var untouched = await h.CreateThreadAsync(("user", "ad hoc"));
        h.Source.Requests.Clear();

        var summary = await h.Migrator.MigrateAsync(["k"], new MigrationOptions { DryRun = true });
        var adHoc = await h.Migrator.MigrateThreadAsync(untouched, new MigrationOptions { DryRun = true });

        var report = Assert.Single(summary.Threads);
        Assert.True(summary.Succeeded);
        Assert.Equal(ThreadMigrationStatus.WouldMigrate, report.Status);
        Assert.True(report.DryRun);
        Assert.True(report.ConversationCreated);
        Assert.True(report.BindingSwitched);
        Assert.Equal(3, report.MessagesCarried);
        Assert.Null(report.ConversationId);
        Assert.Equal(ThreadMigrationStatus.WouldMigrate, adHoc.Status);
        Assert.Equal(1, adHoc.MessagesCarried);

        Assert.Empty(h.Target.Requests.All);
        Assert.Empty(MigrationHarness.Writes(h.Source));
        Assert.Null(await h.Store.GetAsync("k", AssistantsProtocol.Responses));
        Assert.Null(await h.Store.GetAsync(ThreadMigrator.MappingKeyPrefix + thread, AssistantsProtocol.Responses));

        // Also half-way: a dry run after a partial migration only reads the target.
        await h.Migrator.MigrateThreadAsync(thread);
        await h.AddMessagesAsync(thread, ("assistant", "see you"));
        h.Target.Requests.Clear();
        var partial = (await h.Migrator.MigrateAsync(["k"], new MigrationOptions { DryRun = true })).Threads[0];
        Assert.Equal(ThreadMigrationStatus.WouldMigrate, partial.Status);
        Assert.Equal(1, partial.MessagesCarried);
        Assert.Equal(3, partial.MessagesAlreadyCarried);
        Assert.Empty(MigrationHarness.Writes(h.Target));
    }

    [Fact]
    public async Task UnknownKeys_BusyThreads_AndRefusedCredentials_AreReportedPerThread()
    {
        await using var h = await MigrationHarness.StartAsync();
        var busy = await h.CreateThreadAsync(("user", "still thinking?"));
        var assistant = (await h.SourceClient.CreateAssistantAsync("gpt-4.1-mini")).Value;
        h.Source.Script.OnRun(1).Taking(TimeSpan.FromHours(1));
        await h.SourceClient.CreateRunAsync(busy, assistant.Id);
        await h.BindAsync("busy", busy);

        var summary = await h.Migrator.MigrateAsync(["missing", "busy"]);

        Assert.False(summary.Succeeded);
        Assert.False(summary.Aborted);
        Assert.Equal(ThreadMigrationStatus.Failed, summary.Threads[0].Status);
        Assert.Contains("'missing' has no Assistants binding", summary.Threads[0].Error, StringComparison.Ordinal);
        Assert.Equal(ThreadMigrationStatus.Failed, summary.Threads[1].Status);
        Assert.Contains("active run", summary.Threads[1].Error, StringComparison.Ordinal);
        Assert.Empty(MigrationHarness.Writes(h.Target));

        // The target refuses the migrator's key: the migration stops at the first thread.
        await using var refused = await MigrationHarness.StartAsync(o => o.Target.ApiKey = "sk-wrong-0123456789WRONGSECRET");
        var one = await refused.CreateThreadAsync(("user", "one"));
        var two = await refused.CreateThreadAsync(("user", "two"));

        var stopped = await refused.Migrator.MigrateThreadsAsync([one, two]);

        Assert.True(stopped.Aborted);
        Assert.Equal(MigrationEndpoint.Target, stopped.Threads[0].EndpointFailure);
        Assert.Contains("Target: HTTP 401", stopped.Threads[0].Error, StringComparison.Ordinal);
        Assert.DoesNotContain("WRONGSECRET", stopped.Threads[0].Error, StringComparison.Ordinal);
        Assert.Equal(ThreadMigrationStatus.NotAttempted, stopped.Threads[1].Status);
        Assert.Equal(1, refused.Target.Requests.Count("POST", "/conversations"));

        // A source nobody listens on: the migration stops too, naming the source.
        await using var unreachable = await MigrationHarness.StartAsync(o => o.Source.Endpoint = new Uri("http://127.0.0.1:1/v1"));
        var gone = await unreachable.Migrator.MigrateThreadsAsync(["thread_a", "thread_b"]);

        Assert.True(gone.Aborted);
        Assert.Equal(MigrationEndpoint.Source, gone.Threads[0].EndpointFailure);
        Assert.StartsWith("Source: The server could not be reached", gone.Threads[0].Error, StringComparison.Ordinal);
        Assert.Equal(ThreadMigrationStatus.NotAttempted, gone.Threads[1].Status);
        Assert.Empty(unreachable.Target.Requests.All);
    }

    [Fact]
    public async Task Options_AreValidated_WithMessagesNamingTheBadValue_AndKeysNeverShown()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAssistantsKit(o => o.Endpoint = new Uri("http://127.0.0.1:9/v1"));
        services.AddAssistantsKitMigration(o =>
        {
            o.Source.ApiKey = "sk-source-SECRET";
            o.Target.Endpoint = new Uri("/relative", UriKind.Relative);
            o.BatchSize = 50;
        });
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ThreadMigrator>());

        Assert.Contains("AssistantsKitMigration:Source:Endpoint is required (was '(none)')", error.Message, StringComparison.Ordinal);
        Assert.Contains("AssistantsKitMigration:Target:Endpoint must be an absolute http or https URI including /v1 (was '/relative')", error.Message, StringComparison.Ordinal);
        Assert.Contains("AssistantsKitMigration:BatchSize must be between 1 and 20", error.Message, StringComparison.Ordinal);
        Assert.Contains("(was 50)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);

        var options = new ThreadMigratorOptions();
        options.Source.ApiKey = "sk-source-SECRET";
        options.Target.ApiKey = "sk-target-SECRET";
        Assert.DoesNotContain("SECRET", options.ToString(), StringComparison.Ordinal);
    }
}
