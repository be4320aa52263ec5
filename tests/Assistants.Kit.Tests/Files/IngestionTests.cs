using System.Text.Json.Nodes;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Files;

/// <summary>Idempotent ingestion, the processing wait, per-file failures, chunking and attributes, cleanup and storage accounting.</summary>
public sealed class IngestionTests
{
    private static FileSource[] TwoFiles() =>
    [
        FileSource.FromText(FilesKit.Handbook, "handbook.md"),
        FileSource.FromText("Deploys go through the pipeline, never by hand.", "deploys.txt"),
    ];

    [Fact]
    public async Task Ingest_SameFilesTwice_UploadsAndIndexesNothingTheSecondTime()
    {
        await using var kit = await FilesKit.StartAsync();

        var first = await kit.Files().IngestAsync("docs", TwoFiles());
        var second = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.Equal((2, 0, true), (first.Uploaded, first.Reused, first.VectorStoreCreated));
        Assert.Equal((0, 2, false), (second.Uploaded, second.Reused, second.VectorStoreCreated));
        Assert.Equal(first.VectorStoreId, second.VectorStoreId);
        Assert.Equal(first.Files.Select(f => f.FileId), second.Files.Select(f => f.FileId));
        Assert.All(second.Files, f => Assert.Equal(VectorStoreFileState.Completed, f.State));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/vector_stores"));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/vector_stores/*/file_batches"));
        Assert.Equal(2, (await kit.Files().GetVectorStoreFilesAsync(first.VectorStoreId)).Count);
    }

    [Fact]
    public async Task Ingest_SecondProcess_FindsTheStoreAndTheFilesOnTheServer()
    {
        await using var kit = await FilesKit.StartAsync();
        var first = await kit.Files().IngestAsync("docs", TwoFiles());

        await using var otherProcess = kit.NewKit(kit: b => b.AddFiles());
        var again = await otherProcess.Files().IngestAsync("docs", TwoFiles());

        Assert.Equal(first.VectorStoreId, again.VectorStoreId);
        Assert.Equal(2, again.Reused);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
    }

    [Fact]
    public async Task Ingest_ChangedContent_UploadsItAndRemovesTheOldVersion()
    {
        await using var kit = await FilesKit.StartAsync();
        var first = await kit.Files().IngestAsync("docs", TwoFiles());

        var edited = await kit.Files().IngestAsync("docs", [TwoFiles()[0], FileSource.FromText("Deploys go through the pipeline.", "deploys.txt")]);

        Assert.Equal([IngestionOutcome.Reused, IngestionOutcome.Uploaded], edited.Files.Select(f => f.Outcome));
        var old = first.Files[1].FileId;
        Assert.Equal([old], edited.RemovedFileIds);
        var files = await kit.Files().GetVectorStoreFilesAsync(edited.VectorStoreId);
        Assert.Equal([first.Files[0].FileId, edited.Files[1].FileId], files.Select(f => f.FileId));
        Assert.Null(await kit.Files().GetFileAsync(old));
    }

    [Fact]
    public async Task Ingest_PerFileFailure_IsReportedAndLogged_NotHidden()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Script.FailFileProcessing("deploys.txt", "invalid_file", "The file could not be parsed.");

        var result = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.False(result.Succeeded);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(("deploys.txt", VectorStoreFileState.Failed, "invalid_file", "The file could not be parsed."), (failure.FileName, failure.State, failure.ErrorCode, failure.ErrorMessage));
        Assert.True(result.Files[0].IsCompleted);
        var ex = Assert.Throws<FileIngestionException>(() => result.EnsureSuccess());
        Assert.Contains("'deploys.txt'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("invalid_file: The file could not be parsed.", ex.Message, StringComparison.Ordinal);
        Assert.Contains(kit.Services.LogLines(), l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("'deploys.txt' was not processed", StringComparison.Ordinal));

        // A permanent failure is reported again, not retried.
        var again = await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.Equal(IngestionOutcome.Reused, again.Files[1].Outcome);
        Assert.Equal("invalid_file", Assert.Single(again.Failures).ErrorCode);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/vector_stores/*/file_batches"));
    }

    [Fact]
    public async Task Ingest_TransientFailure_IsAddedAgainNextTime_WithoutUploading()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Script.FailFileProcessing("deploys.txt", "server_error");
        var first = await kit.Files().IngestAsync("docs", TwoFiles());
        kit.Emulator.Script.Clear();

        var second = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.Equal("server_error", Assert.Single(first.Failures).ErrorCode);
        Assert.Equal([IngestionOutcome.Reused, IngestionOutcome.Readded], second.Files.Select(f => f.Outcome));
        Assert.True(second.Succeeded);
        Assert.Equal(first.Files[1].FileId, second.Files[1].FileId);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
    }

    [Fact]
    public async Task Wait_BacksOffUnderFakeTime_UntilEveryFileIsProcessed()
    {
        await using var kit = await FilesKit.StartAsync(
            emulator: e => e.FileProcessingDuration = TimeSpan.FromSeconds(30),
            fakeTime: true,
            files: o =>
            {
                o.Processing.InitialDelay = TimeSpan.FromSeconds(1);
                o.Processing.BackoffFactor = 2;
                o.Processing.MaxDelay = TimeSpan.FromSeconds(8);
            });

        var result = await kit.DriveAsync(kit.Files().IngestAsync("docs", TwoFiles()), TimeSpan.FromMilliseconds(100));

        Assert.True(result.Succeeded);
        var batch = kit.Emulator.Requests.Where("POST", "/vector_stores/*/file_batches")[0].Timestamp;
        var polls = kit.Emulator.Requests.Where("GET", "/vector_stores/*/file_batches/*").Select(r => r.Timestamp).ToList();

        // Delays of 1, 2, 4, 8, 8, 8 s (capped) between checks; loopback I/O may let the fake clock move a little more.
        double[] delays = [1, 2, 4, 8, 8, 8];
        Assert.Equal(delays.Length + 1, polls.Count);
        for (var i = 0; i < delays.Length; i++)
        {
            Assert.InRange((polls[i + 1] - polls[i]).TotalSeconds, delays[i], delays[i] + 0.5);
        }

        Assert.True(polls[^1] - batch >= TimeSpan.FromSeconds(30));
        Assert.True(polls[^2] - batch < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Wait_PastTheTimeout_ThrowsWithWhatIsPending()
    {
        await using var kit = await FilesKit.StartAsync(
            emulator: e => e.FileProcessingDuration = TimeSpan.FromHours(1),
            fakeTime: true,
            files: o => o.Processing.Timeout = TimeSpan.FromSeconds(20));

        var ex = await Assert.ThrowsAsync<FileProcessingTimeoutException>(() => kit.DriveAsync(kit.Files().IngestAsync("docs", TwoFiles()), TimeSpan.FromSeconds(1)));

        Assert.Equal(2, ex.Pending);
        Assert.Equal(TimeSpan.FromSeconds(20), ex.Timeout);
        Assert.Contains("still being processed after 00:00:20", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_Cancelled_StopsPollingAtOnce()
    {
        await using var kit = await FilesKit.StartAsync(emulator: e => e.FileProcessingDuration = TimeSpan.FromHours(1), fakeTime: true);
        using var cancellation = new CancellationTokenSource();

        var ingest = kit.Files().IngestAsync("docs", TwoFiles(), cancellationToken: cancellation.Token);
        await Waiting.UntilAsync(() => kit.Emulator.Requests.Count("GET", "/vector_stores/*/file_batches/*") == 1);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ingest);
        Assert.Equal(1, kit.Emulator.Requests.Count("GET", "/vector_stores/*/file_batches/*"));
    }

    [Fact]
    public async Task Ingest_ChunkingAttributesAndExpiry_GoOnTheWire()
    {
        await using var kit = await FilesKit.StartAsync();
        var options = new FileIngestionOptions { Chunking = ChunkingStrategy.Static(400, 100), ExpiresAfterDays = 7 };
        options.Attributes["team"] = "platform";
        options.Metadata["owner"] = "docs-bot";
        var handbook = FileSource.FromText(FilesKit.Handbook, "handbook.md");
        handbook.Attributes["version"] = 3;
        handbook.Attributes["public"] = true;

        var result = await kit.Files().IngestAsync("docs", [handbook], options);

        var store = JsonNode.Parse(kit.Emulator.Requests.Where("POST", "/vector_stores")[0].Body)!;
        Assert.Equal("""{"name":"docs","metadata":{"owner":"docs-bot","kit_vector_store":"docs"},"expires_after":{"anchor":"last_active_at","days":7}}""", store.ToJsonString());
        var batch = JsonNode.Parse(kit.Emulator.Requests.Where("POST", "/vector_stores/*/file_batches")[0].Body)!["files"]![0]!;
        Assert.Equal(result.Files[0].FileId, (string?)batch["file_id"]);
        Assert.Equal(
            $$"""{"team":"platform","version":3,"public":true,"kit_sha256":"{{result.Files[0].ContentHash}}","kit_file":"handbook.md"}""",
            batch["attributes"]!.ToJsonString());
        Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}}""", batch["chunking_strategy"]!.ToJsonString());
        Assert.Equal(64, result.Files[0].ContentHash.Length);
    }

    [Fact]
    public async Task AddFiles_OverTheBatchLimit_SendsSeveralBatchesAndReportsEveryFile()
    {
        await using var kit = await FilesKit.StartAsync();
        var store = await kit.Files().CreateVectorStoreAsync("many");
        var ids = new List<string>();
        for (var i = 0; i < FileLimits.MaxFilesPerBatch + 3; i++)
        {
            ids.Add((await kit.Files().UploadAsync(FileSource.FromText($"note {i}", $"n{i}.txt"), AttachmentTools.FileSearch)).Id);
        }

        var result = await kit.Files().AddFilesAsync(store.Id, ids, ChunkingStrategy.Auto);

        Assert.Equal(2, result.BatchIds.Count);
        Assert.Equal(ids.Count, result.Files.Count);
        Assert.Empty(result.Failures);
        Assert.Equal(ids.Count, (await kit.Files().GetVectorStoreAsync(store.Id))!.FileCount);
    }

    [Fact]
    public async Task DeleteVectorStore_DeletesTheStoreAndTheKitsUploads_AndStopsStorageAccounting()
    {
        await using var kit = await FilesKit.StartAsync(fakeTime: true);
        var plain = await kit.Files().UploadAsync(FileSource.FromText("kept", "kept.txt"), AttachmentTools.FileSearch);
        var options = new FileIngestionOptions { ConversationKey = "tenant-a" };
        options.Tags["tenant"] = "a";
        // The emulator processes files at once (no processing duration), so the clock moves only when the test moves it.
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles(), options).WaitAsync(TimeSpan.FromSeconds(30));
        await kit.Files().AddFilesAsync(ingestion.VectorStoreId, [plain.Id]).WaitAsync(TimeSpan.FromSeconds(30));
        kit.Time!.Advance(TimeSpan.FromDays(2));

        var deletion = await kit.Files().DeleteVectorStoreAsync(ingestion.VectorStoreId);

        Assert.True(deletion.VectorStoreDeleted);
        Assert.Equal(ingestion.Files.Select(f => f.FileId).Order(), deletion.DeletedFileIds.Order());
        Assert.NotNull(await kit.Files().GetFileAsync(plain.Id));
        Assert.Null(await kit.Files().GetVectorStoreAsync(ingestion.VectorStoreId));

        var entries = ((InMemoryUsageLedger)kit.Services.GetRequiredService<IUsageLedger>()).GetEntries(new UsageQuery { Kind = UsageEntryKind.VectorStorage });
        var bytes = FilesKit.Handbook.Length + "Deploys go through the pipeline, never by hand.".Length + "kept".Length;
        var expected = ToolPrices.GigabyteDays(bytes, TimeSpan.FromDays(2));
        Assert.Equal(expected, entries.Sum(e => e.VectorStorageGigabyteDays));
        Assert.All(entries, e => Assert.Equal(ingestion.VectorStoreId, e.VectorStoreId));
        Assert.Contains(entries, e => e.ConversationKey == "tenant-a" || e.ConversationKey is null);
    }

    [Fact]
    public async Task ReportVectorStorage_AccruesGigabyteDaysSinceTheLastReport()
    {
        await using var kit = await FilesKit.StartAsync(fakeTime: true);
        var options = new FileIngestionOptions { ConversationKey = "tenant-a" };
        options.Tags["tenant"] = "a";
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles(), options).WaitAsync(TimeSpan.FromSeconds(30)); // processed at once: the clock stays
        kit.Time!.Advance(TimeSpan.FromDays(1));

        var bytes = await kit.Files().ReportVectorStorageAsync(ingestion.VectorStoreId, "tenant-a", new Dictionary<string, string> { ["tenant"] = "a" });

        var ledger = kit.Services.GetRequiredService<IUsageLedger>();
        var totals = await ledger.GetTotalsAsync(new UsageQuery { Kind = UsageEntryKind.VectorStorage, ConversationKey = "tenant-a" });
        Assert.Equal(ingestion.Files.Sum(f => f.Bytes), bytes);
        Assert.Equal(ToolPrices.GigabyteDays(bytes, TimeSpan.FromDays(1)), totals.VectorStorageGigabyteDays);
        Assert.True(totals.Cost > 0m);
    }
}
