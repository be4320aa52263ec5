using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Files;

/// <summary>
/// Idempotent ingestion across interruptions: the uploads recorded in the kit's <see cref="IFileIngestionStore"/> are
/// reused when an ingestion stopped between <c>POST /files</c> and adding the files to the vector store.
/// </summary>
public sealed class IngestionRecordTests
{
    private static FileSource[] TwoFiles() =>
    [
        FileSource.FromText(FilesKit.Handbook, "handbook.md"),
        FileSource.FromText("Deploys go through the pipeline, never by hand.", "deploys.txt"),
    ];

    [Fact]
    public async Task Ingest_BatchCreationFailsAfterTheUploads_NextIngestionAddsTheRecordedUploads_WithoutUploadingAgain()
    {
        await using var kit = await FilesKit.StartAsync();
        var batch = kit.Emulator.Faults.On("POST", "/vector_stores/*/file_batches").OnNth(1).RespondWith(400, message: "Simulated failure before the files were added.");

        await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Files().IngestAsync("docs", TwoFiles()));

        Assert.Equal(1, batch.Triggered);
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
        var store = await kit.Files().FindVectorStoreAsync("docs");
        Assert.Equal(0, store!.FileCount);
        var uploaded = await Records(kit);
        Assert.Equal(2, uploaded.Count);
        Assert.All(uploaded, r => Assert.Equal((FileIngestionStatus.Uploaded, store.Id), (r.Status, r.VectorStoreId)));

        var again = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.True(again.Succeeded);
        Assert.Equal([IngestionOutcome.Resumed, IngestionOutcome.Resumed], again.Files.Select(f => f.Outcome));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(2, kit.Emulator.Requests.Count("GET", "/files/*"));
        Assert.Equal(uploaded.Select(r => r.FileId).Order(), again.Files.Select(f => f.FileId).Order());
        var records = await Records(kit);
        Assert.All(records, r => Assert.Equal((FileIngestionStatus.Added, store.Id), (r.Status, r.VectorStoreId)));
        Assert.Equal(uploaded.Select(r => r.CreatedAt), records.Select(r => r.CreatedAt));
        Assert.Contains(kit.Services.LogLines(), l => l.Contains("was uploaded as", StringComparison.Ordinal) && l.Contains("instead of uploading again", StringComparison.Ordinal));

        // And from then on, nothing at all.
        var third = await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.Equal((0, 2), (third.Uploaded, third.Reused));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/vector_stores/*/file_batches"));
    }

    [Fact]
    public async Task Ingest_CancelledRightAfterTheUpload_ANewProcessOnTheSameStore_AddsThatUpload()
    {
        // The mapping outlives the process (as the SQLite and Redis stores do): both kits share one store instance.
        var shared = new InMemoryFileIngestionStore();
        using var cancellation = new CancellationTokenSource();
        var cancelling = new ScriptedIngestionStore(shared) { AfterUploadSaved = _ => cancellation.Cancel() };
        await using var kit = await FilesKit.StartAsync(kit: b => b.Services.AddSingleton<IFileIngestionStore>(cancelling));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => kit.Files().IngestAsync("docs", [TwoFiles()[0]], cancellationToken: cancellation.Token));

        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/vector_stores/*/file_batches"));
        var recorded = Assert.Single(await shared.ListAsync("docs").ToListAsync());
        Assert.Equal(FileIngestionStatus.Uploaded, recorded.Status);

        await using var restarted = kit.NewKit(kit: b =>
        {
            b.AddFiles();
            b.Services.AddSingleton<IFileIngestionStore>(shared);
        });
        var result = await restarted.Files().IngestAsync("docs", [TwoFiles()[0]]);

        var file = Assert.Single(result.Files);
        Assert.Equal((IngestionOutcome.Resumed, recorded.FileId, VectorStoreFileState.Completed), (file.Outcome, file.FileId, file.State));
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(FileIngestionStatus.Added, (await shared.GetAsync("docs", file.ContentHash))!.Status);
    }

    [Fact]
    public async Task Ingest_RecordedUploadDeletedOnTheServer_IsForgottenAndUploadedAgainOnce()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/vector_stores/*/file_batches").OnNth(1).RespondWith(400, message: "Simulated failure before the files were added.");
        await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Files().IngestAsync("docs", TwoFiles()));
        var recorded = await Records(kit);
        var lost = recorded.Single(r => r.FileName == "handbook.md");
        Assert.True(await kit.Files().DeleteFileAsync(lost.FileId));

        var again = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.True(again.Succeeded);
        Assert.Equal([IngestionOutcome.Uploaded, IngestionOutcome.Resumed], again.Files.Select(f => f.Outcome));
        Assert.NotEqual(lost.FileId, again.Files[0].FileId);
        Assert.Equal(3, kit.Emulator.Requests.Count("POST", "/files"));
        var records = await Records(kit);
        Assert.Equal(again.Files.Select(f => f.FileId).Order(), records.Select(r => r.FileId).Order());
        Assert.All(records, r => Assert.Equal(FileIngestionStatus.Added, r.Status));
        Assert.Contains(kit.Services.LogLines(), l => l.Contains($"recorded upload {lost.FileId}", StringComparison.Ordinal) && l.Contains("is gone from the server", StringComparison.Ordinal));

        await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.Equal(3, kit.Emulator.Requests.Count("POST", "/files"));
    }

    [Fact]
    public async Task Ingest_Unchanged_RecordsAgreeWithTheServer_AndAreNotRewritten()
    {
        var store = new ScriptedIngestionStore(new InMemoryFileIngestionStore());
        await using var kit = await FilesKit.StartAsync(kit: b => b.Services.AddSingleton<IFileIngestionStore>(store));

        var first = await kit.Files().IngestAsync("docs", TwoFiles());
        var saves = store.Saves;
        var second = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.Equal(4, saves); // two uploads, then two "added"
        Assert.Equal(saves, store.Saves);
        Assert.Equal((0, 2), (second.Uploaded, second.Reused));
        Assert.Equal(0, kit.Emulator.Requests.Count("GET", "/files/*"));
        var records = await store.ListAsync("docs").ToListAsync();
        Assert.Equal(first.Files.Select(f => (f.ContentHash, f.FileId, f.FileName, f.Bytes)).OrderBy(f => f.ContentHash, StringComparer.Ordinal), records.Select(r => (r.ContentHash, r.FileId, r.FileName, r.Bytes)));
        Assert.All(records, r => Assert.Equal((FileIngestionStatus.Added, first.VectorStoreId), (r.Status, r.VectorStoreId)));
    }

    [Fact]
    public async Task Ingest_ReplacedContent_ForgetsTheOldRecord()
    {
        await using var kit = await FilesKit.StartAsync();
        var first = await kit.Files().IngestAsync("docs", TwoFiles());

        var edited = await kit.Files().IngestAsync("docs", [TwoFiles()[0], FileSource.FromText("Deploys go through the pipeline.", "deploys.txt")], new FileIngestionOptions { ReplaceChangedFiles = true });

        Assert.Equal([first.Files[1].FileId], edited.RemovedFileIds);
        var records = await Records(kit);
        Assert.Equal(edited.Files.Select(f => f.FileId).Order(), records.Select(r => r.FileId).Order());
        Assert.Null(await kit.Services.GetRequiredService<IFileIngestionStore>().GetAsync("docs", first.Files[1].ContentHash));
    }

    [Fact]
    public async Task DeleteVectorStore_ForgetsTheRecords()
    {
        await using var kit = await FilesKit.StartAsync();
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.Equal(2, (await Records(kit)).Count);

        var deletion = await kit.Files().DeleteVectorStoreAsync(ingestion.VectorStoreId);

        Assert.Equal(2, deletion.DeletedFileIds.Count);
        Assert.Empty(await Records(kit));
        var again = await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.Equal((2, true), (again.Uploaded, again.VectorStoreCreated));
        Assert.Equal(0, kit.Emulator.Requests.Count("GET", "/files/*"));
    }

    [Fact]
    public async Task DeleteVectorStore_AfterAnInterruptedIngestion_DeletesTheRecordedUploadsItNeverHeld()
    {
        await using var kit = await FilesKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/vector_stores/*/file_batches").OnNth(1).RespondWith(400, message: "Simulated failure before the files were added.");
        await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Files().IngestAsync("docs", TwoFiles()));
        var recorded = await Records(kit);
        var store = await kit.Files().FindVectorStoreAsync("docs");

        var deletion = await kit.Files().DeleteVectorStoreAsync(store!.Id);

        Assert.Equal(recorded.Select(r => r.FileId).Order(), deletion.DeletedFileIds.Order());
        foreach (var record in recorded)
        {
            Assert.Null(await kit.Files().GetFileAsync(record.FileId));
        }

        Assert.Empty(await Records(kit));
    }

    [Fact]
    public async Task DeleteVectorStore_KeepingTheUploads_KeepsTheRecords_SoTheUploadsAreReused()
    {
        await using var kit = await FilesKit.StartAsync();
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles());

        var deletion = await kit.Files().DeleteVectorStoreAsync(ingestion.VectorStoreId, deleteUploadedFiles: false);
        var again = await kit.Files().IngestAsync("docs", TwoFiles());

        Assert.Empty(deletion.DeletedFileIds);
        Assert.True(again.VectorStoreCreated);
        Assert.Equal([IngestionOutcome.Resumed, IngestionOutcome.Resumed], again.Files.Select(f => f.Outcome));
        Assert.Equal(ingestion.Files.Select(f => f.FileId), again.Files.Select(f => f.FileId));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.All(await Records(kit), r => Assert.Equal((FileIngestionStatus.Added, again.VectorStoreId), (r.Status, r.VectorStoreId)));
    }

    [Fact]
    public async Task RemoveFileFromVectorStore_WithDeletion_ForgetsItsRecord_WithoutDeletion_KeepsIt()
    {
        await using var kit = await FilesKit.StartAsync();
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles());

        await kit.Files().RemoveFileFromVectorStoreAsync(ingestion.VectorStoreId, ingestion.Files[0].FileId);
        Assert.Equal(2, (await Records(kit)).Count);

        await kit.Files().RemoveFileFromVectorStoreAsync(ingestion.VectorStoreId, ingestion.Files[1].FileId, deleteFile: true);
        var left = Assert.Single(await Records(kit));
        Assert.Equal(ingestion.Files[0].FileId, left.FileId);
    }

    [Fact]
    public async Task DeleteVectorStore_LeavesAnUploadTheCallerRemovedButKept_AndItsRecord()
    {
        await using var kit = await FilesKit.StartAsync();
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles());
        var kept = ingestion.Files[0];
        await kit.Files().RemoveFileFromVectorStoreAsync(ingestion.VectorStoreId, kept.FileId);

        var deletion = await kit.Files().DeleteVectorStoreAsync(ingestion.VectorStoreId);

        Assert.Equal([ingestion.Files[1].FileId], deletion.DeletedFileIds);
        Assert.NotNull(await kit.Files().GetFileAsync(kept.FileId));
        Assert.Equal(kept.FileId, Assert.Single(await Records(kit)).FileId);
    }

    [Fact]
    public async Task Ingest_StoreFailsToRecordAnUpload_DeletesThatUpload_AndThrowsAClearException()
    {
        var store = new ScriptedIngestionStore(new InMemoryFileIngestionStore()) { BeforeUploadSaved = _ => throw new InvalidOperationException("disk full") };
        await using var kit = await FilesKit.StartAsync(kit: b => b.Services.AddSingleton<IFileIngestionStore>(store));

        var ex = await Assert.ThrowsAsync<FileIngestionStoreException>(() => kit.Files().IngestAsync("docs", TwoFiles()));

        Assert.Equal("docs", ex.VectorStoreName);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Contains("failed to record the upload", ex.Message, StringComparison.Ordinal);
        Assert.Contains("disk full", ex.Message, StringComparison.Ordinal);
        Assert.Contains("The upload was deleted", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(1, kit.Emulator.Requests.Count("DELETE", "/files/*"));
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/vector_stores/*/file_batches"));
        Assert.Contains(kit.Services.LogLines(), l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("failed to record an upload for 'docs'", StringComparison.Ordinal));

        // Once the store works again, the ingestion completes.
        store.BeforeUploadSaved = null;
        var result = await kit.Files().IngestAsync("docs", TwoFiles());
        Assert.True(result.Succeeded);
        Assert.Equal(3, kit.Emulator.Requests.Count("POST", "/files"));
    }

    [Fact]
    public async Task Ingest_StoreFailsToList_StopsBeforeAnythingIsUploaded()
    {
        var store = new ScriptedIngestionStore(new InMemoryFileIngestionStore()) { FailList = true };
        await using var kit = await FilesKit.StartAsync(kit: b => b.Services.AddSingleton<IFileIngestionStore>(store));

        var ex = await Assert.ThrowsAsync<FileIngestionStoreException>(() => kit.Files().IngestAsync("docs", TwoFiles()));

        Assert.Contains("Nothing was uploaded or changed.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/files"));
        Assert.Equal(0, kit.Emulator.Requests.Count("POST", "/vector_stores"));
    }

    [Fact]
    public async Task DeleteVectorStore_StoreFailsToList_DeletesNothing()
    {
        var store = new ScriptedIngestionStore(new InMemoryFileIngestionStore());
        await using var kit = await FilesKit.StartAsync(kit: b => b.Services.AddSingleton<IFileIngestionStore>(store));
        var ingestion = await kit.Files().IngestAsync("docs", TwoFiles());
        store.FailList = true;

        var ex = await Assert.ThrowsAsync<FileIngestionStoreException>(() => kit.Files().DeleteVectorStoreAsync(ingestion.VectorStoreId));

        Assert.Contains("Nothing was deleted.", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(await kit.Files().GetVectorStoreAsync(ingestion.VectorStoreId));
        Assert.Equal(0, kit.Emulator.Requests.Count("DELETE", "/files/*"));
    }

    [Fact]
    public void AddFiles_RegistersTheInMemoryStore_UnlessOneIsRegistered()
    {
        var custom = new InMemoryFileIngestionStore();
        var services = new ServiceCollection();
        services.AddSingleton<IFileIngestionStore>(custom);
        services.AddAssistantsKit(o => o.ApiKey = "sk-test").AddFiles();
        using var provider = services.BuildServiceProvider();
        Assert.Same(custom, provider.GetRequiredService<IFileIngestionStore>());

        using var defaults = new ServiceCollection().AddAssistantsKit(o => o.ApiKey = "sk-test").AddFiles().Services.BuildServiceProvider();
        Assert.IsType<InMemoryFileIngestionStore>(defaults.GetRequiredService<IFileIngestionStore>());
    }

    private static async Task<List<FileIngestionRecord>> Records(EmulatorKit kit) =>
        await kit.Services.GetRequiredService<IFileIngestionStore>().ListAsync("docs").ToListAsync();

    /// <summary>A store whose writes can be counted, made to fail (before storing) or followed by an action (after storing).</summary>
    private sealed class ScriptedIngestionStore(IFileIngestionStore inner) : IFileIngestionStore
    {
        private int _saves;

        /// <summary>Gets or sets what happens before an upload is recorded (throw to make the store fail).</summary>
        public Action<FileIngestionRecord>? BeforeUploadSaved { get; set; }

        /// <summary>Gets or sets what happens after an upload is recorded.</summary>
        public Action<FileIngestionRecord>? AfterUploadSaved { get; set; }

        public bool FailList { get; set; }

        public int Saves => Volatile.Read(ref _saves);

        public ValueTask<FileIngestionRecord?> GetAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default) =>
            inner.GetAsync(vectorStoreName, contentHash, cancellationToken);

        public async ValueTask SaveAsync(FileIngestionRecord record, CancellationToken cancellationToken = default)
        {
            var upload = record.Status == FileIngestionStatus.Uploaded;
            if (upload)
            {
                BeforeUploadSaved?.Invoke(record);
            }

            await inner.SaveAsync(record, cancellationToken);
            Interlocked.Increment(ref _saves);
            if (upload)
            {
                AfterUploadSaved?.Invoke(record);
            }
        }

        public ValueTask<bool> RemoveAsync(string vectorStoreName, string contentHash, CancellationToken cancellationToken = default) =>
            inner.RemoveAsync(vectorStoreName, contentHash, cancellationToken);

        public IAsyncEnumerable<FileIngestionRecord> ListAsync(string vectorStoreName, CancellationToken cancellationToken = default) =>
            FailList ? throw new InvalidOperationException("the store is down") : inner.ListAsync(vectorStoreName, cancellationToken);
    }
}
