using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Internal;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI.Assistants;
using OpenAI.Files;

namespace Assistants.Kit.Testing.Tests.Files;

/// <summary>Scripted file_search and code_interpreter steps: results, citations, outputs, streams, and the retrieval itself.</summary>
public sealed class FileSearchRunTests
{
    private const string Include = "include[]=step_details.tool_calls%5B%2A%5D.file_search.results%5B%2A%5D.content";

    private const string Foods = "The favorite food of several people:\n- Summanus Ferdinand: tacos\n- Tekakwitha Effie: pizza\n- Filip Carola: cake";

    private static async Task<(RunDriver Driver, string Assistant, string FileId)> StartWithStoreAsync(string tools = """[{"type":"file_search"}]""")
    {
        var d = await RunDriver.StartAsync();
        var fileId = (await FilesApiTests.Client(d.Emulator).UploadFileAsync(BinaryData.FromString(Foods), "favorite_foods.txt", FileUploadPurpose.Assistants)).Value.Id;
        var store = (await d.Http.PostJsonAsync("/vector_stores", new { file_ids = new[] { fileId } })).Body.Str("id");
        var assistant = await d.AssistantAsync(JsonNode.Parse($$$$"""{"model":"gpt-4o","tools":{{{{tools}}}},"tool_resources":{"file_search":{"vector_store_ids":["{{{{store}}}}"]}}}"""));
        return (d, assistant, fileId);
    }

    [Fact]
    public async Task SearchFiles_AddsAFileSearchStep_AndTheReplyCitesTheTopResult()
    {
        var (d, assistant, fileId) = await StartWithStoreAsync();
        await using var _ = d;
        d.Emulator.Script.Default().SearchFiles().Reply("Filip's favorite food is cake.");
        var thread = await d.ThreadAsync("Using the files you have available, what's Filip's favorite food?");

        var (_, run) = await d.Http.PostJsonAsync($"/threads/{thread}/runs?{Include}", new { assistant_id = assistant });
        await d.GetRunAsync(run!);
        var reply = (await d.MessagesAsync(thread))[^1];
        var (_, withContent) = await d.Http.GetJsonAsync($"/threads/{thread}/runs/{run.Str("id")}/steps?order=asc&{Include}");
        var withoutContent = await d.StepsAsync(run!);

        var marker = "【0:0†favorite_foods.txt】";
        Assert.Equal($"Filip's favorite food is cake{marker}.", RunDriver.Text(reply));
        FileJson.Equal(
            $$$"""[{"type":"file_citation","text":"{{{marker}}}","start_index":29,"end_index":{{{29 + marker.Length}}},"file_citation":{"file_id":"{{{fileId}}}"}}]""",
            reply["content"]![0]!["text"]!["annotations"]!);
        var call = withContent!["data"]![0]!["step_details"]!["tool_calls"]![0]!;
        Assert.Equal("file_search", call.Str("type"));
        FileJson.Equal(
            $$"""{"ranking_options":{"ranker":"default_2024_08_21","score_threshold":0},"results":[{"file_id":"{{fileId}}","file_name":"favorite_foods.txt","score":1,"attributes":{},"content":[{"type":"text","text":{{JsonValue.Create(Foods).ToJsonString()}}}]}]}""",
            call["file_search"]!);
        Assert.Null(withoutContent[0]["step_details"]!["tool_calls"]![0]!["file_search"]!["results"]![0]!["content"]);
        Assert.Equal(["tool_calls", "message_creation"], withoutContent.Select(s => s.Str("type")));
        Assert.NotNull(withoutContent[0]["usage"]);
    }

    [Fact]
    public async Task SearchFiles_WithTheOfficialClient_StreamsTheStepWithItsResults()
    {
        var (d, assistant, fileId) = await StartWithStoreAsync();
        await using var _ = d;
        d.Emulator.Script.Default().SearchFiles().Reply(ctx => $"Best match: {ctx.FileSearchResults[0].FileName}.");
        var client = Emulators.Client(d.Emulator);
        var thread = await d.ThreadAsync("Who likes pizza?");

        var updates = new List<StreamingUpdate>();
        await foreach (var update in await client.CreateRunStreamingAsync(thread, assistant))
        {
            updates.Add(update);
        }

        var details = updates.OfType<RunStepDetailsUpdate>().First();
        Assert.Equal("call_", details.ToolCallId[..5]);
        Assert.NotNull(details.FileSearchRankingOptions);
        var completed = updates.OfType<RunStepUpdate>().First(u => u.UpdateKind == StreamingUpdateReason.RunStepCompleted).Value;
        var result = Assert.Single(completed.Details.ToolCalls[0].FileSearchResults);
        Assert.Equal((fileId, "favorite_foods.txt", Foods), (result.FileId, result.FileName, result.Content[0].Text));
        var message = updates.OfType<MessageStatusUpdate>().Single(u => u.UpdateKind == StreamingUpdateReason.MessageCompleted).Value;
        Assert.Equal("Best match: favorite_foods.txt【0:0†favorite_foods.txt】.", message.Content[0].Text);
        Assert.Equal(fileId, message.Content[0].TextAnnotations[0].InputFileId);
    }

    [Fact]
    public async Task SearchFiles_WithoutTheTool_FailsTheRunSayingWhy()
    {
        var (d, assistant, _) = await StartWithStoreAsync(tools: "[]");
        await using var __ = d;
        d.Emulator.Script.Default().SearchFiles();

        var run = await d.GetRunAsync(await d.CreateRunAsync(await d.ThreadAsync("cake?"), new { assistant_id = assistant }));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"The emulator script runs file_search, but run {run.Str("id")} has no file_search tool (enable it on the assistant or the run).", run.Str("last_error.message"));
    }

    [Fact]
    public async Task SearchFiles_FindsAttachmentsAndThreadStores_NotProcessingOrOtherFiles()
    {
        await using var d = await RunDriver.StartAsync(o => o.FileProcessingDuration = TimeSpan.FromMinutes(1));
        var files = FilesApiTests.Client(d.Emulator);
        var attached = (await files.UploadFileAsync(BinaryData.FromString("Release on Tuesday."), "attached.md", FileUploadPurpose.Assistants)).Value.Id;
        var pending = (await files.UploadFileAsync(BinaryData.FromString("Release notes are pending."), "pending.md", FileUploadPurpose.Assistants)).Value.Id;
        await files.UploadFileAsync(BinaryData.FromString("Release everything."), "unrelated.md", FileUploadPurpose.Assistants);
        var store = (await d.Http.PostJsonAsync("/vector_stores", new { file_ids = new[] { pending } })).Body.Str("id");
        var assistant = await d.AssistantAsync(new { model = "gpt-4o", tools = new[] { new { type = "file_search" } } });
        var thread = (await d.Http.PostJsonAsync("/threads", JsonNode.Parse($$$$"""
            {"messages":[{"role":"user","content":"When is the release?","attachments":[{"file_id":"{{{{attached}}}}","tools":[{"type":"file_search"}]}]}],
             "tool_resources":{"file_search":{"vector_store_ids":["{{{{store}}}}"]}}}
            """))).Body.Str("id");
        d.Emulator.Script.Default().SearchFiles(citations: 0);

        var run = await d.GetRunAsync(await d.CreateRunAsync(thread, new { assistant_id = assistant }));
        var (_, steps) = await d.Http.GetJsonAsync($"/threads/{thread}/runs/{run.Str("id")}/steps?order=asc&{Include}");

        var results = steps!["data"]![0]!["step_details"]!["tool_calls"]![0]!["file_search"]!["results"]!.AsArray();
        Assert.Equal([attached], results.Select(r => r.Str("file_id")));
        Assert.DoesNotContain('【', RunDriver.Text((await d.MessagesAsync(thread))[^1]));
    }

    [Fact]
    public async Task RunCode_ProducesLogsAChartImageAndAGeneratedFile()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync(new { model = "gpt-4o", tools = new[] { new { type = "code_interpreter" } } });
        d.Emulator.Script.Default().RunCode("print(1+1)\nplot()", logs: "2", image: true).WithGeneratedFile("out.csv", "a,b\n1,2\n").Reply("Done.");
        var thread = await d.ThreadAsync("compute");

        var run = await d.GetRunAsync(await d.CreateRunAsync(thread, new { assistant_id = assistant }));
        var call = (await d.StepsAsync(run))[0]["step_details"]!["tool_calls"]![0]!;
        var reply = (await d.MessagesAsync(thread))[^1];
        var imageId = call.Str("code_interpreter.outputs.1.image.file_id");
        using var image = await d.Http.GetAsync($"files/{imageId}/content");
        var png = await image.Content.ReadAsByteArrayAsync();
        var csvId = reply.Str("content.0.text.annotations.0.file_path.file_id");
        using var csv = await d.Http.GetAsync($"files/{csvId}/content");

        Assert.Equal("completed", run.Str("status"));
        FileJson.Equal(
            $$$"""{"input":"print(1+1)\nplot()","outputs":[{"type":"logs","logs":"2"},{"type":"image","image":{"file_id":"{{{imageId}}}"}}]}""",
            call["code_interpreter"]!);
        Assert.Equal("Done. [out.csv](sandbox:/mnt/data/out.csv)", RunDriver.Text(reply));
        FileJson.Equal(
            $$$"""{"type":"file_path","text":"sandbox:/mnt/data/out.csv","start_index":16,"end_index":41,"file_path":{"file_id":"{{{csvId}}}"}}""",
            reply["content"]![0]!["text"]!["annotations"]![0]!);
        Assert.Equal(imageId, reply.Str("content.1.image_file.file_id"));
        Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
        Assert.Equal(EmulatorImages.Chart(), png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.Equal("a,b\n1,2\n", await csv.Content.ReadAsStringAsync());
        var (_, meta) = await d.Http.GetJsonAsync($"/files/{csvId}");
        Assert.Equal(("assistants_output", "/mnt/data/out.csv"), (meta.Str("purpose"), meta.Str("filename")));
    }

    [Fact]
    public async Task RunCode_StreamsTheInputInPiecesThenTheOutputs()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync(new { model = "gpt-4o", tools = new[] { new { type = "code_interpreter" } } });
        d.Emulator.Script.Default().RunCode("import pandas as pd\ndf = pd.read_csv('x.csv')\nprint(df.mean())", logs: "a 1.5", image: true);
        var client = Emulators.Client(d.Emulator);

        var updates = new List<StreamingUpdate>();
        await foreach (var update in await client.CreateRunStreamingAsync(await d.ThreadAsync("mean?"), assistant))
        {
            updates.Add(update);
        }

        var deltas = updates.OfType<RunStepDetailsUpdate>().ToList();
        Assert.Equal("import pandas as pd\ndf = pd.read_csv('x.csv')\nprint(df.mean())", string.Concat(deltas.Select(u => u.CodeInterpreterInput)));
        Assert.Equal(["a 1.5"], deltas.SelectMany(u => u.CodeInterpreterOutputs ?? []).Where(o => o.Logs is not null).Select(o => o.Logs));
        Assert.Single(deltas.SelectMany(u => u.CodeInterpreterOutputs ?? []), o => o.ImageFileId is not null);
        var message = updates.OfType<MessageStatusUpdate>().Single(u => u.UpdateKind == StreamingUpdateReason.MessageCompleted).Value;
        Assert.NotNull(message.Content[1].ImageFileId);
    }

    [Theory]
    [InlineData("What's Filip's favorite food?", new[] { "filip", "favorite", "food" })]
    [InlineData("How do we REVIEW pull-requests?", new[] { "review", "pull", "requests" })]
    public void Terms_AreLowercaseWordsOfThreeOrMoreLetters_WithoutCommonWords(string query, string[] terms) =>
        Assert.Equal(terms.Order(), VectorStoreEngine.Terms(query).Order());

    [Fact]
    public void Chunks_AreParagraphs_WithTheirHeading_CutAtLineEndsWhenLong()
    {
        var text = "# Title\n\n## Review\nWithin a day.\n\n## Long\nline one is here\nline two is here\nline three is here";

        var chunks = VectorStoreEngine.Chunks(text, maxChars: 40);

        Assert.Equal(["# Title", "## Review\nWithin a day.", "## Long\nline one is here", "line two is here\nline three is here"], chunks);
    }
}
