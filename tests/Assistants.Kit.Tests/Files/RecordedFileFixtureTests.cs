using System.Text.Json.Nodes;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tests.Streaming;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using YamlDotNet.RepresentationModel;

namespace Assistants.Kit.Tests.Files;

/// <summary>The recorded traffic of the real service, served from a stub server, replayed through the file helpers and the engine.</summary>
public sealed class RecordedFileFixtureTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();

    public void Dispose() => _server.Stop();

    private Uri Endpoint => new(_server.Urls[0] + "/v1");

    [Fact]
    public async Task FileSearchWorks_UploadThenTheFinishedRun_YieldsTheCitationsQuoteFromTheStepResults()
    {
        var session = Session("AssistantsTests", "FileSearchWorks");
        Serve(session, "POST", "/files");
        Serve(session, "GET", "/threads/thread_Q1yKHOMIqQaRApLIyDkJgISP/runs/run_6QwP49pI2IbnMIXITa0gjzw7");
        Serve(session, "GET", "/threads/thread_Q1yKHOMIqQaRApLIyDkJgISP/messages");
        Serve(session, "GET", "/threads/thread_Q1yKHOMIqQaRApLIyDkJgISP/runs/run_6QwP49pI2IbnMIXITa0gjzw7/steps");
        await using var services = KitServices.Build(Endpoint, o => o.Polling.InitialDelay = TimeSpan.FromMilliseconds(1), kit: b => b.AddFiles());

        var uploaded = await services.Files().UploadAsync(FileSource.FromText("This file describes the favorite foods of several people.", "favorite_foods.txt"), AttachmentTools.FileSearch);
        var result = await services.GetRequiredService<AssistantRunner>().AttachRun("thread_Q1yKHOMIqQaRApLIyDkJgISP", "run_6QwP49pI2IbnMIXITa0gjzw7").WaitForCompletionAsync();

        Assert.Equal("file-DLCAr5NoVMw44WT3FrWWva", uploaded.Id);
        Assert.Equal(("favorite_foods.txt", 127L), (uploaded.FileName, uploaded.Bytes));
        Assert.Equal("Filip's favorite food is cake【4:0†favorite_foods.txt】.", result.Text);
        var citation = Assert.Single(result.GetCitations());
        Assert.Equal(("file-DLCAr5NoVMw44WT3FrWWva", "favorite_foods.txt", 29, 53), (citation.FileId, citation.FileName, citation.StartIndex, citation.EndIndex));
        Assert.Equal("This file describes the favorite foods of several people.\n\nSummanus Ferdinand: tacos\nTekakwitha Effie: pizza\nFilip Carola: cake", citation.Quote);
        Assert.Equal(2, result.GetFileSearchResults().Count);
        Assert.Single(result.Steps.SelectMany(s => s.ToolCalls), c => c.Kind == RunStepToolCallKind.FileSearch);

        // The official client asks for the results' text on the steps list.
        var steps = _server.LogEntries.Single(e => e.RequestMessage!.Path.EndsWith("/steps", StringComparison.Ordinal));
        Assert.Contains("file_search.results[*].content", Uri.UnescapeDataString(steps.RequestMessage!.Url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileSearchStreamingWorks_TheStreamYieldsResultsAndTheQuotedCitation()
    {
        var session = Session("AssistantsTests", "FileSearchStreamingWorks");
        Serve(session, "POST", "/files");
        var stream = string.Concat(session.Single(e => (string)e!["RequestMethod"]! == "POST" && ((string)e["RequestUri"]!).Contains("/runs", StringComparison.Ordinal))!["ResponseBody"]!.AsArray().Select(l => (string)l!));
        await using var services = KitServices.Build(Endpoint, kit: b => b.AddFiles());

        var uploaded = await services.Files().UploadAsync(FileSource.FromText("The favorite food of several people", "favorite_foods.txt"), AttachmentTools.FileSearch);
        var (events, mapper) = await RecordedStreamReplayTests.ReplayAsync(stream);

        Assert.Equal("file-CyHtsk7XAWdRabQUBYRjCu", uploaded.Id);
        var search = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        var result = Assert.Single(search.FileSearchResults);
        Assert.Equal(("file-CyHtsk7XAWdRabQUBYRjCu", "favorite_foods.txt"), (result.FileId, result.FileName));
        var message = Assert.Single(events.OfType<MessageCompletedEvent>()).Message;
        var citation = Assert.Single(message.Annotations);
        Assert.Equal(("favorite_foods.txt", result.Content), (citation.FileName, citation.Quote));
        Assert.Equal(result, Assert.Single(mapper.Steps.SelectMany(s => s.ToolCalls)).FileSearchResults.Single());
    }

    [Fact]
    public async Task CanAssociateFiles_StoreUploadsRemovalAndListing_ThroughTheHelpers()
    {
        var session = Session("VectorStoresTests", "CanAssociateFiles");
        Serve(session, "POST", "/vector_stores");
        Serve(session, "POST", "/files");
        Serve(session, "DELETE", "/vector_stores/vs_68c9edb91bd0819181f77b5bbe965d7a/files/file-G1oqbTRRW8Wxv9DXTepouG");
        Serve(session, "GET", "/vector_stores/vs_68c9edb91bd0819181f77b5bbe965d7a/files");
        await using var services = KitServices.Build(Endpoint, kit: b => b.AddFiles());
        var files = services.Files();

        var store = await files.CreateVectorStoreAsync("associations");
        var uploads = new List<UploadedFile>();
        for (var i = 0; i < 3; i++)
        {
            uploads.Add(await files.UploadAsync(FileSource.FromText("This is a test file", $"test_file_{i:000}.txt"), AttachmentTools.FileSearch));
        }

        await files.RemoveFileFromVectorStoreAsync(store.Id, uploads[0].Id);
        var listed = await files.GetVectorStoreFilesAsync(store.Id);

        Assert.Equal(("vs_68c9edb91bd0819181f77b5bbe965d7a", "completed", 0), (store.Id, store.Status, store.FileCount));
        Assert.Equal(["file-G1oqbTRRW8Wxv9DXTepouG", "file-PSk3S4JUC2qtTdbPfaa4Cp", "file-AyHcRJM3RR9FXPdwvgKgtr"], uploads.Select(u => u.Id));
        Assert.Equal(["file-AyHcRJM3RR9FXPdwvgKgtr", "file-PSk3S4JUC2qtTdbPfaa4Cp"], listed.Select(f => f.FileId));
        Assert.All(listed, f => Assert.Equal((VectorStoreFileState.Completed, 1045L, (string?)null), (f.State, f.UsageBytes, f.ContentHash)));
        var created = JsonNode.Parse(_server.LogEntries.First(e => e.RequestMessage!.Path == "/v1/vector_stores").RequestMessage!.Body!)!;
        Assert.Equal("associations", (string?)created["metadata"]![AssistantFiles.VectorStoreNameKey]);
    }

    [Fact]
    public async Task VectorStoreFileBatchesList_A500ThenSuccess_IsRetriedAndTheBatchReported()
    {
        var cassette = Cassette("vector_store_file_batches_list.yml");
        Assert.Equal([500, 200], cassette.Select(c => c.Status));
        const string vectorStore = "vs_Jhsj39YoypHdDXGlrTHtx3ir";
        const string batch = "vsfb_b776bc9508004e9db5711d1acad854c7";
        _server.Given(Request.Create().WithPath($"/v1/vector_stores/{vectorStore}/file_batches/{batch}").UsingGet()).RespondWith(Json(200,
            $$$"""{"id":"{{{batch}}}","object":"vector_store.files_batch","created_at":1728975692,"vector_store_id":"{{{vectorStore}}}","status":"completed","file_counts":{"in_progress":0,"completed":1,"failed":0,"cancelled":0,"total":1}}"""));
        var files = $"/v1/vector_stores/{vectorStore}/file_batches/{batch}/files";
        _server.Given(Request.Create().WithPath(files).UsingGet()).InScenario("cassette").WillSetStateTo("recovered").RespondWith(Json(cassette[0].Status, cassette[0].Body));
        _server.Given(Request.Create().WithPath(files).UsingGet()).InScenario("cassette").WhenStateIs("recovered").RespondWith(Json(cassette[1].Status, cassette[1].Body));
        await using var services = KitServices.Build(Endpoint, o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1), kit: b => b.AddFiles());

        var result = await services.Files().WaitForFileBatchAsync(vectorStore, batch);

        var file = Assert.Single(result.Files);
        Assert.Equal(("file-SsFSl4UvE63Gw3hoiC4P74e4", VectorStoreFileState.Completed), (file.FileId, file.State));
        Assert.Empty(result.Failures);
        Assert.Equal(2, _server.LogEntries.Count(e => e.RequestMessage!.Path == files));
        Assert.Contains(services.LogLines(), l => l.Contains("Retrying GET", StringComparison.Ordinal) && l.Contains("status 500", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FileOnMessageWorksAsync_AttachmentsGoOnTheWireAsRecorded()
    {
        var session = Session("AssistantsTests", "FileOnMessageWorksAsync");
        Serve(session, "POST", "/threads/thread_gAAkyuIXs5PLiQoe8sIEDTXV/messages");
        var recorded = session.Single(e => ((string)e!["RequestUri"]!).EndsWith("/messages", StringComparison.Ordinal))!["RequestBody"]!;
        await using var services = KitServices.Build(Endpoint);
        var backend = services.GetRequiredService<IProtocolBackend>();

        var message = await backend.AddUserMessageAsync(
            "thread_gAAkyuIXs5PLiQoe8sIEDTXV",
            "What is this file?",
            "op_1",
            [MessageAttachment.ForFileSearch("file-LEY8LWxuCKn5TNcydztuW1"), MessageAttachment.ForCodeInterpreter("file-LEY8LWxuCKn5TNcydztuW1")],
            CancellationToken.None);

        var sent = JsonNode.Parse(_server.LogEntries.Single().RequestMessage!.Body!)!.AsObject();
        Assert.Equal("op_1", (string?)sent["metadata"]!["kit_op"]);
        sent.Remove("metadata");
        Assert.Equal(recorded.ToJsonString(), sent.ToJsonString());
        Assert.Equal("msg_MZwW4GbZHxjqCfOHGFFuybon", message.Id);
    }

    private static JsonArray Session(string suite, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "openai-dotnet", suite, name + ".json")))!["Entries"]!.AsArray();

    private static List<(int Status, string Body)> Cassette(string name)
    {
        var yaml = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", "ruby-openai", "cassettes", name))))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return [.. ((YamlSequenceNode)root["http_interactions"]).Cast<YamlMappingNode>().Select(i =>
        {
            var response = (YamlMappingNode)i["response"];
            return (int.Parse(((YamlScalarNode)((YamlMappingNode)response["status"])["code"]).Value!, System.Globalization.CultureInfo.InvariantCulture),
                ((YamlScalarNode)((YamlMappingNode)response["body"])["string"]).Value!);
        })];
    }

    private static IResponseBuilder Json(int status, string body) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);

    /// <summary>Serves every recorded exchange of a method and path, in the recorded order (the last one repeats).</summary>
    private void Serve(JsonArray session, string method, string path)
    {
        var entries = session
            .Where(e => (string)e!["RequestMethod"]! == method && new Uri((string)e["RequestUri"]!).AbsolutePath == "/v1" + path)
            .ToList();
        Assert.NotEmpty(entries);
        for (var i = 0; i < entries.Count; i++)
        {
            var request = Request.Create().WithPath("/v1" + path).UsingMethod(method);
            var response = Json((int)entries[i]!["StatusCode"]!, entries[i]!["ResponseBody"]!.ToJsonString());
            var scenario = $"{method} {path}";
            var given = _server.Given(request).InScenario(scenario);
            given = i == 0 ? given : given.WhenStateIs(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            (i + 1 < entries.Count ? given.WillSetStateTo((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)) : given).RespondWith(response);
        }
    }
}
