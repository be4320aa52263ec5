using Assistants.Kit.Testing;

namespace Assistants.Kit.Tests.Files;

/// <summary>Upload → batch wait → attach → run with citations, over the wire on the emulator.</summary>
public sealed class FileSearchEndToEndTests
{
    [Fact]
    public async Task Ingest_Attach_Run_ReturnsCitationWithQuoteAndFileName()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Script.WhenUserMessageContains("review").SearchFiles().Reply("Pull requests are reviewed within one working day.");

        var ingestion = await kit.Files().IngestAsync("handbook", [FileSource.FromText(FilesKit.Handbook, "handbook.md")]);
        var definition = new AssistantDefinition { Name = "mentor", Instructions = "Answer from the handbook." }.UseFileSearch(ingestion.VectorStoreId);
        var result = await kit.Runner.RunAsync("k", "How fast are code reviews?", new RunOptions { Assistant = definition });

        Assert.True(ingestion.Succeeded);
        Assert.Equal(IngestionOutcome.Uploaded, Assert.Single(ingestion.Files).Outcome);
        Assert.StartsWith("Pull requests are reviewed within one working day【", result.Text, StringComparison.Ordinal);
        Assert.EndsWith("†handbook.md】.", result.Text, StringComparison.Ordinal);
        var citation = Assert.Single(result.GetCitations());
        Assert.Equal(ingestion.Files[0].FileId, citation.FileId);
        Assert.Equal("handbook.md", citation.FileName);
        Assert.Equal("## Code review\nEvery pull request gets a review within one working day. Reviewers check tests first, then naming.", citation.Quote);
        Assert.Equal(citation.Text, result.Text[citation.StartIndex..citation.EndIndex]);

        var search = result.GetFileSearchResults();
        Assert.Equal(citation.Quote, search[0].Content);
        Assert.Equal("handbook.md", search[0].FileName);
        Assert.Equal(1, result.Cost!.FileSearchCalls);
        Assert.Equal(0.0025m, result.Cost.ToolCost);
    }

    [Fact]
    public async Task Streamed_FileSearchResultsAndTheCitedMessage_ArriveAsEvents()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Script.Default().SearchFiles().Reply("We release on Tuesdays.");
        var ingestion = await kit.Files().IngestAsync("handbook", [FileSource.FromText(FilesKit.Handbook, "handbook.md")]);
        var definition = new AssistantDefinition { Name = "mentor" }.UseFileSearch(ingestion.VectorStoreId);

        var events = new List<RunStreamEvent>();
        await foreach (var e in kit.Runner.StreamAsync("k", "When do releases happen?", new RunOptions { Assistant = definition }))
        {
            events.Add(e);
        }

        var started = Assert.Single(events.OfType<ToolCallStartedEvent>());
        Assert.Equal(ToolCallType.FileSearch, started.Type);
        var search = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        Assert.Equal(ToolCallType.FileSearch, search.Type);
        Assert.Equal("## Releases\nWe release on Tuesdays. A release needs a green build and a changelog entry.", search.FileSearchResults[0].Content);
        var message = Assert.Single(events.OfType<MessageCompletedEvent>()).Message;
        var citation = Assert.Single(message.Annotations);
        Assert.Equal(("file_citation", "handbook.md", search.FileSearchResults[0].Content), (citation.Kind, citation.FileName, citation.Quote));
        var finished = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Equal(citation, Assert.Single(finished.Result!.GetCitations()));
        Assert.Equal(1, finished.Result!.Cost!.FileSearchCalls);
    }

    [Fact]
    public async Task MessageAttachment_ForFileSearch_IsSearchedAndCited()
    {
        await using var kit = await FilesKit.StartAsync(o => o.Assistant.FileSearch = true);
        kit.Emulator.Script.Default().SearchFiles().Reply("Pages are answered within fifteen minutes.");
        var file = await kit.Files().UploadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(FilesKit.Handbook)), "handbook.md");

        var options = new RunOptions();
        options.Attachments.Add(MessageAttachment.ForFileSearch(file.Id));
        var result = await kit.Runner.RunAsync("k", "How quickly must on-call answer?", options);

        var message = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads/*/messages"));
        Assert.Contains($$"""{"file_id":"{{file.Id}}","tools":[{"type":"file_search"}]}""", message.Body, StringComparison.Ordinal);
        var citation = Assert.Single(result.GetCitations());
        Assert.Equal(file.Id, citation.FileId);
        Assert.StartsWith("## On-call", citation.Quote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AttachToThread_SearchesTheThreadsVectorStore()
    {
        await using var kit = await FilesKit.StartAsync(o => o.Assistant.FileSearch = true);
        kit.Emulator.Script.WhenUserMessageContains("release").SearchFiles().Reply("Tuesdays.");
        var first = await kit.Runner.RunAsync("k", "hello");
        var ingestion = await kit.Files().IngestAsync("team-notes", [FileSource.FromText(FilesKit.Handbook, "notes.md")]);

        var threadId = await kit.Files().AttachVectorStoreToConversationAsync("k", ingestion.VectorStoreId);
        var result = await kit.Runner.RunAsync("k", "When is the release day?");

        Assert.Equal(first.ThreadId, threadId);
        Assert.Equal("notes.md", Assert.Single(result.GetCitations()).FileName);
        await Assert.ThrowsAsync<InvalidOperationException>(() => kit.Files().AttachVectorStoreToConversationAsync("never-ran", ingestion.VectorStoreId));
    }

    [Fact]
    public async Task CodeInterpreter_LogsImageAndGeneratedFile_ExposedAndDownloaded()
    {
        await using var kit = await FilesKit.StartAsync(o => o.Assistant.CodeInterpreter = true);
        kit.Emulator.Script.Default()
            .RunCode("import matplotlib\nplot(latency)", logs: "p95=120ms", image: true)
            .WithGeneratedFile("latency.csv", "p50,p95\n40,120\n")
            .Reply("Here is the chart.");
        var directory = Path.Combine(Path.GetTempPath(), "kit-files-" + Guid.NewGuid().ToString("N"));

        try
        {
            var result = await kit.Runner.RunAsync("k", "Chart our latency.");
            var saved = await kit.Files().SaveOutputFilesAsync(result, directory);

            var call = Assert.Single(result.GetCodeInterpreterCalls());
            Assert.Equal("import matplotlib\nplot(latency)", call.CodeInterpreterInput);
            Assert.Equal(["p95=120ms"], call.CodeInterpreterLogs);
            var imageId = Assert.Single(call.CodeInterpreterImageFileIds);
            Assert.Equal([imageId], result.Messages[0].ImageFileIds);
            var link = Assert.Single(result.Messages[0].Annotations);
            Assert.Equal(("file_path", "sandbox:/mnt/data/latency.csv", "latency.csv"), (link.Kind, link.Text, link.FileName));
            Assert.Equal(2, saved.Count);
            var image = saved.Single(s => s.File.Kind == OutputFileKind.Image);
            Assert.Equal(Path.Combine(directory, imageId + ".png"), image.Path);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(image.Path)[..4]);
            var csv = saved.Single(s => s.File.Kind == OutputFileKind.GeneratedFile);
            Assert.Equal("p50,p95\n40,120\n", File.ReadAllText(csv.Path));
            Assert.Equal(1, result.Cost!.CodeInterpreterSessions);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Responses_FilesAndStoresWork_ThreadAttachmentsAndMessageAttachmentsSayTheyAreAssistantsOnly()
    {
        await using var kit = await FilesKit.StartAsync(o => o.Protocol = AssistantsProtocol.Responses);
        var ingestion = await kit.Files().IngestAsync("handbook", [FileSource.FromText(FilesKit.Handbook, "handbook.md")]);
        var options = new RunOptions();
        options.Attachments.Add(MessageAttachment.ForFileSearch(ingestion.Files[0].FileId));

        var thread = await Assert.ThrowsAsync<NotSupportedException>(() => kit.Files().AttachVectorStoreToThreadAsync("conv_1", ingestion.VectorStoreId));
        var message = await Assert.ThrowsAsync<NotSupportedException>(() => kit.Runner.RunAsync("k", "hi", options));

        Assert.True(ingestion.Succeeded);
        Assert.Contains("AssistantDefinition.VectorStoreIds", thread.Message, StringComparison.Ordinal);
        Assert.StartsWith("Message attachments are an Assistants protocol feature; the Responses protocol has none.", message.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_OfAnAssistantsUpload_IsRefusedByTheServer()
    {
        await using var kit = await FilesKit.StartAsync();
        var file = await kit.Files().UploadAsync(FileSource.FromText("x", "a.txt"), AttachmentTools.FileSearch);

        var ex = await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Files().DownloadAsync(file.Id, Stream.Null));

        Assert.Equal(400, ex.Status);
        Assert.Contains("Not allowed to download files of purpose: assistants", ex.Message, StringComparison.Ordinal);
    }
}
