using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI;
using OpenAI.Files;
using OpenAI.VectorStores;

namespace Assistants.Kit.Testing.Tests.Files;

/// <summary>Vector stores, their files and batches: shapes, processing on the emulator's clock, failures, cancel, filters.</summary>
public sealed class VectorStoresApiTests
{
    private static VectorStoreClient Client(AssistantsEmulator emulator) =>
        new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = emulator.BaseUri, RetryPolicy = new ClientRetryPolicy(0) }).GetVectorStoreClient();

    private static async Task<string> UploadAsync(RunDriver d, string name, string content) =>
        (await FilesApiTests.Client(d.Emulator).UploadFileAsync(BinaryData.FromString(content), name, FileUploadPurpose.Assistants)).Value.Id;

    [Fact]
    public async Task Batch_IsInProgressForTheProcessingDuration_ThenCompleted()
    {
        await using var d = await RunDriver.StartAsync(o => o.FileProcessingDuration = TimeSpan.FromSeconds(10));
        var client = Client(d.Emulator);
        var a = await UploadAsync(d, "a.md", "alpha");
        var b = await UploadAsync(d, "b.txt", "beta");
        var store = (await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "docs" })).Value;

        var batch = (await client.AddFileBatchToVectorStoreAsync(store.Id, [a, b])).Value;
        d.Time.Advance(TimeSpan.FromSeconds(9));
        var during = (await client.GetVectorStoreFileBatchAsync(store.Id, batch.BatchId)).Value;
        var storeDuring = (await client.GetVectorStoreAsync(store.Id)).Value;
        d.Time.Advance(TimeSpan.FromSeconds(1));
        var after = (await client.GetVectorStoreFileBatchAsync(store.Id, batch.BatchId)).Value;
        var storeAfter = (await client.GetVectorStoreAsync(store.Id)).Value;

        Assert.Matches("^vsfb_[0-9a-f]{32}$", batch.BatchId);
        Assert.Equal((VectorStoreFileBatchStatus.InProgress, 2), (during.Status, during.FileCounts.InProgress));
        Assert.Equal((VectorStoreStatus.InProgress, 0L), (storeDuring.Status, storeDuring.UsageBytes));
        Assert.Equal((VectorStoreFileBatchStatus.Completed, 2, 2), (after.Status, after.FileCounts.Completed, after.FileCounts.Total));
        Assert.Equal((VectorStoreStatus.Completed, 9L, 2), (storeAfter.Status, storeAfter.UsageBytes, storeAfter.FileCounts.Total));
    }

    [Fact]
    public async Task Failures_ScriptedUnsupportedAndEmpty_EndFailedWithLastError()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.FailFileProcessing("broken.md", "invalid_file", "The file could not be parsed.");
        var client = Client(d.Emulator);
        var ok = await UploadAsync(d, "ok.md", "fine");
        var broken = await UploadAsync(d, "broken.md", "garbled");
        var csv = await UploadAsync(d, "data.csv", "a,b");
        var empty = await UploadAsync(d, "empty.txt", "");
        var store = (await client.CreateVectorStoreAsync()).Value;
        var batch = (await client.AddFileBatchToVectorStoreAsync(store.Id, [ok, broken, csv, empty])).Value;

        var failed = new List<VectorStoreFile>();
        await foreach (var file in client.GetVectorStoreFilesInBatchAsync(store.Id, batch.BatchId, new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Failed, Order = VectorStoreFileCollectionOrder.Ascending }))
        {
            failed.Add(file);
        }

        var (_, okFile) = await d.Http.GetJsonAsync($"/vector_stores/{store.Id}/files/{ok}");
        Assert.Equal(
            [(broken, "invalid_file", "The file could not be parsed."), (csv, "unsupported_file", "The file type .csv is not supported for retrieval."), (empty, "invalid_file", "The file is empty.")],
            failed.Select(f => (f.FileId, f.LastError.Code.ToString(), f.LastError.Message)));
        Assert.Equal("completed", okFile.Str("status"));
        var counts = (await client.GetVectorStoreFileBatchAsync(store.Id, batch.BatchId)).Value.FileCounts;
        Assert.Equal((1, 3, 4), (counts.Completed, counts.Failed, counts.Total));
    }

    [Fact]
    public async Task PerFileAttributesAndChunking_AreStoredAndShown()
    {
        await using var d = await RunDriver.StartAsync();
        var a = await UploadAsync(d, "a.md", "alpha");
        var (_, store) = await d.Http.PostJsonAsync("/vector_stores", new { name = "docs", metadata = new { kit_vector_store = "docs" } });
        var id = store.Str("id");

        var (status, batch) = await d.Http.PostJsonAsync($"/vector_stores/{id}/file_batches", JsonNode.Parse($$$$"""
            {"files":[{"file_id":"{{{{a}}}}","attributes":{"kit_sha256":"abc","version":3,"public":true},"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}}}]}
            """));
        var (_, file) = await d.Http.GetJsonAsync($"/vector_stores/{id}/files/{a}");
        var (_, updated) = await d.Http.PostJsonAsync($"/vector_stores/{id}/files/{a}", new { attributes = new { team = "docs" } });

        Assert.Equal(200, status);
        Assert.Equal($$$"""{"id":"{{{batch.Str("id")}}}","object":"vector_store.files_batch","created_at":{{{RunDriver.StartSeconds}}},"vector_store_id":"{{{id}}}","status":"in_progress","file_counts":{"in_progress":1,"completed":0,"failed":0,"cancelled":0,"total":1}}""", batch!.ToJsonString());
        Assert.Equal(
            $$$"""{"id":"{{{a}}}","object":"vector_store.file","usage_bytes":5,"created_at":{{{RunDriver.StartSeconds}}},"vector_store_id":"{{{id}}}","status":"completed","last_error":null,"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}},"attributes":{"kit_sha256":"abc","version":3,"public":true}}""",
            file!.ToJsonString());
        Assert.Equal("""{"team":"docs"}""", updated!["attributes"]!.ToJsonString());
        Assert.Equal("docs", store.Str("metadata.kit_vector_store"));
    }

    [Fact]
    public async Task AddFile_DefaultsToTheAutoStrategy_AsRecorded_AndUnknownFilesAre404()
    {
        await using var d = await RunDriver.StartAsync();
        var client = Client(d.Emulator);
        var a = await UploadAsync(d, "a.txt", "alpha");
        var store = (await client.CreateVectorStoreAsync()).Value;

        var (_, file) = await d.Http.PostJsonAsync($"/vector_stores/{store.Id}/files", new { file_id = a });
        var (missing, error) = await d.Http.PostJsonAsync($"/vector_stores/{store.Id}/files", new { file_id = "file-nope" });
        var (overlap, overlapError) = await d.Http.PostJsonAsync(
            $"/vector_stores/{store.Id}/files",
            new { file_id = a, chunking_strategy = new { type = "static", @static = new { max_chunk_size_tokens = 400, chunk_overlap_tokens = 300 } } });

        Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":400}}""", file!["chunking_strategy"]!.ToJsonString());
        Assert.Equal((404, "No such File object: file-nope"), (missing, error.Str("error.message")));
        Assert.Equal(400, overlap);
        Assert.Contains("must not exceed half of max_chunk_size_tokens", overlapError.Str("error.message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelBatch_CancelsTheFilesStillProcessing()
    {
        await using var d = await RunDriver.StartAsync(o => o.FileProcessingDuration = TimeSpan.FromMinutes(1));
        var client = Client(d.Emulator);
        var store = (await client.CreateVectorStoreAsync()).Value;
        var batch = (await client.AddFileBatchToVectorStoreAsync(store.Id, [await UploadAsync(d, "a.txt", "alpha")])).Value;

        var cancelled = (await client.CancelVectorStoreFileBatchAsync(store.Id, batch.BatchId)).Value;
        d.Time.Advance(TimeSpan.FromMinutes(2));
        var later = (await client.GetVectorStoreFileBatchAsync(store.Id, batch.BatchId)).Value;

        Assert.Equal((VectorStoreFileBatchStatus.Cancelled, 1), (cancelled.Status, cancelled.FileCounts.Cancelled));
        Assert.Equal((VectorStoreFileBatchStatus.Cancelled, 0), (later.Status, later.FileCounts.Completed));
    }

    [Fact]
    public async Task Stores_ListModifyRemoveFileAndDelete()
    {
        await using var d = await RunDriver.StartAsync();
        var client = Client(d.Emulator);
        var a = await UploadAsync(d, "a.txt", "alpha");
        var first = (await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "one", FileIds = { a } })).Value;
        var second = (await client.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "two" })).Value;

        var listed = new List<string>();
        await foreach (var store in client.GetVectorStoresAsync(new VectorStoreCollectionOptions { Order = VectorStoreCollectionOrder.Descending }))
        {
            listed.Add(store.Name);
        }

        var renamed = (await client.ModifyVectorStoreAsync(first.Id, new VectorStoreModificationOptions { Name = "uno" })).Value;
        var removed = (await client.RemoveFileFromVectorStoreAsync(first.Id, a)).Value;
        var emptied = (await client.GetVectorStoreAsync(first.Id)).Value;
        var deleted = (await client.DeleteVectorStoreAsync(second.Id)).Value;
        var (gone, error) = await d.Http.GetJsonAsync($"/vector_stores/{second.Id}");

        Assert.Equal(["two", "one"], listed);
        Assert.Equal(1, first.FileCounts.Total);
        Assert.Equal("uno", renamed.Name);
        Assert.True(removed.Removed);
        Assert.Equal(0, emptied.FileCounts.Total);
        Assert.True(deleted.Deleted);
        Assert.Equal((404, $"No vector store found with id '{second.Id}'."), (gone, error.Str("error.message")));
    }

    [Fact]
    public async Task InlineVectorStoresInToolResources_CreateRealStoresWithTheKnownFiles()
    {
        await using var d = await RunDriver.StartAsync();
        var a = await UploadAsync(d, "a.txt", "alpha");

        var assistant = (await d.Http.PostJsonAsync("/assistants", JsonNode.Parse($$$$"""
            {"model":"gpt-4o","tools":[{"type":"file_search"}],"tool_resources":{"file_search":{"vector_stores":[{"file_ids":["{{{{a}}}}","file-uploadedElsewhere"]}]}}}
            """))).Body!;
        var storeId = assistant.Str("tool_resources.file_search.vector_store_ids.0");
        var (_, files) = await d.Http.GetJsonAsync($"/vector_stores/{storeId}/files");

        Assert.Matches("^vs_[0-9a-f]{32}$", storeId);
        Assert.Equal([a], files!["data"]!.AsArray().Select(f => f.Str("id")));
    }
}
