using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Runs.Internal;
using OpenAI.VectorStores;

namespace Assistants.Kit;

public sealed partial class AssistantFiles
{
    /// <summary>
    /// Makes sure the vector store named <paramref name="vectorStoreName"/> holds <paramref name="files"/>, idempotently:
    /// the store is found by name (or created), each file's SHA-256 is compared with the <c>kit_sha256</c> attributes
    /// already there, and only new content is uploaded and added, in batches of up to 500, waiting until every file is
    /// processed (the kit's polling engine: backoff, <see cref="FileProcessingOptions.Timeout"/>, cancellation).
    /// </summary>
    /// <remarks>
    /// Every file is checked against <see cref="FileLimits"/> (file search extensions, 512 MB, 10,000 files per store
    /// counting what the store holds) before anything is uploaded. A file the service fails to process is reported in
    /// <see cref="FileIngestionResult.Failures"/> with the service's code (<c>unsupported_file</c>, <c>invalid_file</c>,
    /// <c>server_error</c>) and logged; call <see cref="FileIngestionResult.EnsureSuccess"/> to turn that into an
    /// exception. Content that failed with <c>server_error</c> earlier is added again (not uploaded again). Each upload is
    /// recorded in the <see cref="IFileIngestionStore"/> right after <c>POST /files</c>; content an earlier ingestion
    /// uploaded but never added (it stopped: a crash, a failed batch, a cancellation) is added from that upload when the
    /// server still has it (<c>GET /files/{id}</c>), and uploaded again otherwise. With
    /// <see cref="FileIngestionOptions.ReplaceChangedFiles"/>, a file of the same name with other content is removed once
    /// the new content is processed. Vector storage is reported to accounting after the files are processed.
    /// </remarks>
    /// <param name="vectorStoreName">The vector store's name (kept in its metadata as <c>kit_vector_store</c>).</param>
    /// <param name="files">The files; names must be distinct.</param>
    /// <param name="options">How to build the store and add the files.</param>
    /// <param name="cancellationToken">Stops the work (files already added keep processing on the service).</param>
    /// <returns>Every file's outcome and state.</returns>
    /// <exception cref="FileLimitException">A file breaks a limit; nothing was uploaded.</exception>
    /// <exception cref="FileProcessingTimeoutException">The files were not processed within the timeout.</exception>
    /// <exception cref="AssistantsServerException">The server refused a request or could not be reached.</exception>
    /// <exception cref="FileIngestionStoreException">The ingestion store failed; the message says what was left on the server.</exception>
    public async Task<FileIngestionResult> IngestAsync(
        string vectorStoreName,
        IEnumerable<FileSource> files,
        FileIngestionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreName);
        _ = Throw.IfNull(files);
        options ??= new FileIngestionOptions();
        var sources = files.ToList();
        if (sources.Count > FileLimits.MaxFilesPerVectorStore)
        {
            throw new FileLimitException(vectorStoreName, Invariant($"{sources.Count:N0} files were given for vector store '{vectorStoreName}'; a vector store holds at most {FileLimits.MaxFilesPerVectorStore:N0}."));
        }

        if (sources.GroupBy(s => s.FileName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new ArgumentException($"The file name '{duplicate.Key}' is given {duplicate.Count()} times; names identify files in the vector store, so they must be distinct.", nameof(files));
        }

        foreach (var source in sources)
        {
            FileLimits.Check(source.FileName, source.KnownLength, AttachmentTools.FileSearch);
            _ = VectorStoreFileAttributes.Build(source.FileName, "0", options.Attributes, source.Attributes);
        }

        var prepared = new List<PreparedFile>(sources.Count);
        foreach (var source in sources)
        {
            prepared.Add(await source.PrepareAsync(cancellationToken).ConfigureAwait(false));
        }

        var started = _time.GetUtcNow();
        return await TranslateAsync(() => IngestCoreAsync(vectorStoreName, prepared, options, started, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Finds the vector store the kit created under <paramref name="name"/> (the newest, when there are several).</summary>
    /// <param name="name">The name given to <see cref="IngestAsync"/> or <see cref="CreateVectorStoreAsync"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The vector store, or <see langword="null"/>.</returns>
    public Task<VectorStoreInfo?> FindVectorStoreAsync(string name, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(name);
        return TranslateAsync(() => FindVectorStoreCoreAsync(name, cancellationToken));
    }

    /// <summary>Creates a vector store (its name kept in the metadata as <c>kit_vector_store</c>, so <see cref="FindVectorStoreAsync"/> finds it).</summary>
    /// <param name="name">The name.</param>
    /// <param name="options">Metadata, expiry and the accounting of its storage (the file options are not used here).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The vector store.</returns>
    public Task<VectorStoreInfo> CreateVectorStoreAsync(string name, FileIngestionOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(name);
        return TranslateAsync(() => CreateVectorStoreCoreAsync(name, options ?? new FileIngestionOptions(), cancellationToken));
    }

    /// <summary>Gets a vector store, or <see langword="null"/> when the server does not know it.</summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The vector store, or <see langword="null"/>.</returns>
    public Task<VectorStoreInfo?> GetVectorStoreAsync(string vectorStoreId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        return TranslateAsync(async () =>
        {
            try
            {
                return (VectorStoreInfo?)ToInfo((await _clients.VectorStores.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Value);
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                return null;
            }
        });
    }

    /// <summary>
    /// Adds uploaded files to a vector store in batches (up to 500 each) and waits until every file is processed,
    /// reporting each file's state. Not idempotent by content: see <see cref="IngestAsync"/> for that.
    /// </summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="fileIds">The uploaded files.</param>
    /// <param name="chunking">How to split them; <see langword="null"/> leaves it to the service.</param>
    /// <param name="attributes">Attributes stored on every file (strings, numbers, booleans; at most 16).</param>
    /// <param name="cancellationToken">Stops the wait (the service keeps processing).</param>
    /// <returns>Every file's final state.</returns>
    /// <exception cref="FileLimitException">The store would hold more than 10,000 files; nothing was added.</exception>
    /// <exception cref="FileProcessingTimeoutException">The files were not processed within the timeout.</exception>
    public async Task<FileBatchResult> AddFilesAsync(
        string vectorStoreId,
        IEnumerable<string> fileIds,
        ChunkingStrategy? chunking = null,
        IReadOnlyDictionary<string, object>? attributes = null,
        CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        _ = Throw.IfNull(fileIds);
        var ids = fileIds.Distinct(StringComparer.Ordinal).ToList();
        var json = VectorStoreFileAttributes.ToJson(attributes, FileLimits.MaxAttributes);
        var started = _time.GetUtcNow();
        return await TranslateAsync(async () =>
        {
            var store = (await _clients.VectorStores.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Value;
            CheckCapacity(vectorStoreId, store.FileCounts.Total, ids.Count);
            var (batchIds, results) = await AddAndWaitAsync(vectorStoreId, [.. ids.Select(id => new BatchEntry(id, json, chunking))], started, cancellationToken).ConfigureAwait(false);
            await ReportStorageCoreAsync(vectorStoreId, null, null, cancellationToken).ConfigureAwait(false);
            return new FileBatchResult(vectorStoreId, batchIds, results);
        }).ConfigureAwait(false);
    }

    /// <summary>Waits until a file batch is processed and reports each of its files (the kit's polling engine).</summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="batchId">The batch ID.</param>
    /// <param name="cancellationToken">Stops the wait (the service keeps processing).</param>
    /// <returns>Every file of the batch with its final state.</returns>
    /// <exception cref="FileProcessingTimeoutException">The batch was not processed within the timeout.</exception>
    public Task<FileBatchResult> WaitForFileBatchAsync(string vectorStoreId, string batchId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        _ = Throw.IfNullOrWhiteSpace(batchId);
        var started = _time.GetUtcNow();
        return TranslateAsync(async () =>
        {
            var files = await WaitForBatchCoreAsync(vectorStoreId, batchId, started, cancellationToken).ConfigureAwait(false);
            return new FileBatchResult(vectorStoreId, [batchId], files);
        });
    }

    /// <summary>Lists a vector store's files with their states (and, for files the kit ingested, their names and hashes).</summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The files, oldest first.</returns>
    public Task<IReadOnlyList<VectorStoreFileResult>> GetVectorStoreFilesAsync(string vectorStoreId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        return TranslateAsync(async () => (IReadOnlyList<VectorStoreFileResult>)await ListFilesAsync(vectorStoreId, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Removes a file from a vector store (it is no longer searched there) and, with <paramref name="deleteFile"/>, deletes
    /// the upload and forgets its record in the <see cref="IFileIngestionStore"/>.
    /// </summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="fileId">The file ID.</param>
    /// <param name="deleteFile">Whether to delete the uploaded file too. Default: <see langword="false"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the file is removed (a file already gone is no error).</returns>
    /// <exception cref="FileIngestionStoreException">The ingestion store failed to forget the record of the deleted upload.</exception>
    public Task RemoveFileFromVectorStoreAsync(string vectorStoreId, string fileId, bool deleteFile = false, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        _ = Throw.IfNullOrWhiteSpace(fileId);
        return TranslateAsync(async () =>
        {
            await RemoveFromStoreAsync(vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
            if (deleteFile)
            {
                await DeleteFileCoreAsync(fileId, cancellationToken).ConfigureAwait(false);
                if (await GetKitNameAsync(vectorStoreId, cancellationToken).ConfigureAwait(false) is { } name)
                {
                    var consequence = $"File {fileId} was removed from vector store {vectorStoreId} and deleted; a record left behind points to a deleted upload and is forgotten when an ingestion finds it gone.";
                    var records = await StoreCallAsync(name, "list its records", consequence, () => ListRecordsAsync(name, cancellationToken), cancellationToken).ConfigureAwait(false);
                    await ForgetRecordsAsync(name, vectorStoreId, records.Values.Where(r => r.FileId == fileId), consequence, cancellationToken).ConfigureAwait(false);
                }
            }

            return true;
        });
    }

    /// <summary>
    /// Deletes a vector store and, with <paramref name="deleteUploadedFiles"/>, the uploads the kit made for it (its files
    /// carrying <c>kit_sha256</c>, and the uploads the <see cref="IFileIngestionStore"/> recorded for it that an
    /// interrupted ingestion never added), forgetting the records of the deleted uploads; stops accounting its storage.
    /// Without <paramref name="deleteUploadedFiles"/> the records are kept, so ingesting the same files again reuses the
    /// uploads.
    /// </summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="deleteUploadedFiles">Whether to delete the kit's uploads too. Default: <see langword="true"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>What was deleted.</returns>
    /// <exception cref="FileIngestionStoreException">The ingestion store failed; the message says what was deleted.</exception>
    public Task<VectorStoreDeletion> DeleteVectorStoreAsync(string vectorStoreId, bool deleteUploadedFiles = true, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        return TranslateAsync(async () =>
        {
            var kitFiles = new List<string>();
            string? name = null;
            var records = new Dictionary<string, FileIngestionRecord>(StringComparer.Ordinal);
            if (deleteUploadedFiles)
            {
                try
                {
                    kitFiles.AddRange((await ListFilesAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Where(f => f.ContentHash is not null).Select(f => f.FileId));
                }
                catch (ClientResultException ex) when (ex.Status == 404)
                {
                    // Already gone: nothing to list.
                }

                // The uploads recorded for this store that an interrupted ingestion never added to it.
                name = await GetKitNameAsync(vectorStoreId, cancellationToken).ConfigureAwait(false);
                if (name is not null)
                {
                    records = await StoreCallAsync(name, "list its records", "Nothing was deleted.", () => ListRecordsAsync(name, cancellationToken), cancellationToken).ConfigureAwait(false);
                    kitFiles.AddRange(records.Values
                        .Where(r => r.VectorStoreId == vectorStoreId && r.Status == FileIngestionStatus.Uploaded && !kitFiles.Contains(r.FileId))
                        .Select(r => r.FileId));
                }
            }

            bool deleted;
            try
            {
                deleted = (await _clients.VectorStores.DeleteVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Value.Deleted;
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                deleted = false;
            }

            var deletedFiles = new List<string>();
            foreach (var fileId in kitFiles)
            {
                if (await DeleteFileCoreAsync(fileId, cancellationToken).ConfigureAwait(false))
                {
                    deletedFiles.Add(fileId);
                }
            }

            await _storage.StopTrackingAsync(vectorStoreId, cancellationToken).ConfigureAwait(false);
            FilesLog.VectorStoreDeleted(_logger, vectorStoreId, deleted, deletedFiles.Count);

            if (name is not null)
            {
                await ForgetRecordsAsync(
                    name,
                    vectorStoreId,
                    records.Values.Where(r => kitFiles.Contains(r.FileId)),
                    $"Vector store {vectorStoreId} and {deletedFiles.Count} uploads were deleted; records left behind point to deleted uploads and are forgotten when an ingestion finds them gone.",
                    cancellationToken).ConfigureAwait(false);
            }

            return new VectorStoreDeletion(vectorStoreId, deleted, deletedFiles);
        });
    }

    /// <summary>
    /// Reports a vector store's current <c>usage_bytes</c> to accounting, which accrues its storage (GB-days × the vector
    /// storage price) since the previous report. The kit reports on create and after files are processed; call this
    /// periodically (e.g. daily) for stores that live long.
    /// </summary>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="conversationKey">The conversation its storage belongs to, if any.</param>
    /// <param name="tags">Tags to account it under.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The store's current size in bytes.</returns>
    public Task<long> ReportVectorStorageAsync(string vectorStoreId, string? conversationKey = null, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        return TranslateAsync(() => ReportStorageCoreAsync(vectorStoreId, conversationKey, tags, cancellationToken));
    }

    private async Task<FileIngestionResult> IngestCoreAsync(
        string name, List<PreparedFile> prepared, FileIngestionOptions options, DateTimeOffset started, CancellationToken cancellationToken)
    {
        // The uploads recorded under this name, read before anything changes on the server.
        var records = await StoreCallAsync(name, "list its records", "Nothing was uploaded or changed.", () => ListRecordsAsync(name, cancellationToken), cancellationToken).ConfigureAwait(false);
        var store = await FindVectorStoreCoreAsync(name, cancellationToken).ConfigureAwait(false);
        var created = store is null;
        store ??= await CreateVectorStoreCoreAsync(name, options, cancellationToken).ConfigureAwait(false);
        var existing = created ? [] : await ListFilesAsync(store.Id, cancellationToken).ConfigureAwait(false);
        var byHash = existing.Where(f => f.ContentHash is not null)
            .GroupBy(f => f.ContentHash!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(f => f.State == VectorStoreFileState.Completed ? 0 : 1).First(), StringComparer.Ordinal);

        // Decide for every file first; the capacity check comes before any upload.
        var plans = new List<FilePlan>(prepared.Count);
        var planned = new Dictionary<string, FilePlan>(StringComparer.Ordinal);
        foreach (var file in prepared)
        {
            if (planned.TryGetValue(file.ContentHash, out var same))
            {
                plans.Add(new FilePlan(file, IngestionOutcome.Reused, null) { SameAs = same });
                continue;
            }

            FilePlan plan;
            if (byHash.TryGetValue(file.ContentHash, out var found))
            {
                var transient = found.State == VectorStoreFileState.Cancelled
                    || (found.State == VectorStoreFileState.Failed && found.ErrorCode == "server_error");
                plan = new FilePlan(file, transient ? IngestionOutcome.Readded : IngestionOutcome.Reused, found);
            }
            else if (records.TryGetValue(file.ContentHash, out var record) && await RecordedUploadExistsAsync(name, record, records, cancellationToken).ConfigureAwait(false))
            {
                // Uploaded by an ingestion that stopped before adding it: add that upload.
                plan = new FilePlan(file, IngestionOutcome.Resumed, null) { FileId = record.FileId };
            }
            else
            {
                plan = new FilePlan(file, IngestionOutcome.Uploaded, null);
            }

            plans.Add(plan);
            planned[file.ContentHash] = plan;
        }

        CheckCapacity(name, created ? 0 : store.FileCount, plans.Count(p => p.Outcome is IngestionOutcome.Uploaded or IngestionOutcome.Resumed && p.SameAs is null));

        var entries = new List<BatchEntry>();
        foreach (var plan in plans.Where(p => p.SameAs is null))
        {
            var attributes = VectorStoreFileAttributes.Build(plan.File.FileName, plan.File.ContentHash, options.Attributes, plan.File.Source.Attributes);
            switch (plan.Outcome)
            {
                case IngestionOutcome.Uploaded:
                    plan.FileId = (await UploadPreparedAsync(plan.File, cancellationToken).ConfigureAwait(false)).Id;
                    await RecordUploadAsync(name, store.Id, plan.File, plan.FileId, records).ConfigureAwait(false);
                    entries.Add(new BatchEntry(plan.FileId, attributes, options.Chunking));
                    break;
                case IngestionOutcome.Resumed:
                    FilesLog.Resuming(_logger, plan.File.FileName, plan.File.ContentHash, plan.FileId!, name, store.Id);
                    entries.Add(new BatchEntry(plan.FileId!, attributes, options.Chunking));
                    break;
                case IngestionOutcome.Readded:
                    plan.FileId = plan.Existing!.FileId;
                    FilesLog.Readding(_logger, plan.FileId, plan.File.FileName, plan.Existing.ErrorCode, store.Id);
                    await RemoveFromStoreAsync(store.Id, plan.FileId, cancellationToken).ConfigureAwait(false);
                    entries.Add(new BatchEntry(plan.FileId, attributes, options.Chunking));
                    break;
                default:
                    plan.FileId = plan.Existing!.FileId;
                    FilesLog.Reused(_logger, plan.File.FileName, store.Id, plan.FileId, plan.File.ContentHash);
                    break;
            }
        }

        var (_, added) = await AddAndWaitAsync(store.Id, entries, started, cancellationToken).ConfigureAwait(false);
        var states = added.ToDictionary(r => r.FileId, StringComparer.Ordinal);
        foreach (var plan in plans.Where(p => p.SameAs is null && p.Outcome == IngestionOutcome.Reused))
        {
            states[plan.FileId!] = plan.Existing!.State == VectorStoreFileState.InProgress
                ? await WaitForFileAsync(store.Id, plan.FileId!, started, cancellationToken).ConfigureAwait(false)
                : new VectorStoreFileResult(plan.FileId!, plan.Existing.State, plan.Existing.ErrorCode, plan.Existing.ErrorMessage);
        }

        var results = new List<IngestedFile>(plans.Count);
        foreach (var plan in plans)
        {
            var fileId = plan.SameAs?.FileId ?? plan.FileId!;
            var state = states.TryGetValue(fileId, out var s) ? s : new VectorStoreFileResult(fileId, VectorStoreFileState.InProgress);
            var ingested = new IngestedFile(plan.File.FileName, fileId, plan.File.ContentHash, plan.File.Length, plan.Outcome, state.State, state.ErrorCode, state.ErrorMessage);
            results.Add(ingested);
            if (!ingested.IsCompleted && plan.SameAs is null)
            {
                FilesLog.FileFailed(_logger, fileId, ingested.FileName, store.Id, Wire(state.State), state.ErrorCode, state.ErrorMessage);
            }
        }

        var removed = options.ReplaceChangedFiles
            ? await RemoveReplacedAsync(store.Id, existing, results, cancellationToken).ConfigureAwait(false)
            : [];
        await ReportStorageCoreAsync(store.Id, options.ConversationKey, ReadOnly(options.Tags), cancellationToken).ConfigureAwait(false);
        await RecordOutcomesAsync(name, store.Id, plans, results, existing, removed, records, cancellationToken).ConfigureAwait(false);
        return new FileIngestionResult(store.Id, created, results, removed);
    }

    /// <summary>Reads the records of a vector store name, by content hash.</summary>
    private async Task<Dictionary<string, FileIngestionRecord>> ListRecordsAsync(string name, CancellationToken cancellationToken)
    {
        var records = new Dictionary<string, FileIngestionRecord>(StringComparer.Ordinal);
        await foreach (var record in _ingestions.ListAsync(name, cancellationToken).ConfigureAwait(false))
        {
            records[record.ContentHash] = record;
        }

        return records;
    }

    /// <summary>Whether a recorded upload is still on the server (<c>GET /files/{id}</c>); a record of a gone upload is forgotten.</summary>
    private async Task<bool> RecordedUploadExistsAsync(string name, FileIngestionRecord record, Dictionary<string, FileIngestionRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            _ = await _clients.Files.GetFileAsync(record.FileId, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            FilesLog.RecordedUploadGone(_logger, record.FileId, record.FileName, name);
        }

        _ = await StoreCallAsync(name, "forget a gone upload", "Nothing was uploaded for the files not yet in the vector store.", () => _ingestions.RemoveAsync(name, record.ContentHash, cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        records.Remove(record.ContentHash);
        return false;
    }

    /// <summary>
    /// Records an upload right after <c>POST /files</c>, before the file is added to the vector store. The write is not
    /// cancellable (the upload happened; it must be remembered). When the store fails, the upload is deleted (so nothing
    /// is left that no one knows about) and the ingestion stops with a <see cref="FileIngestionStoreException"/>.
    /// </summary>
    private async Task RecordUploadAsync(string name, string vectorStoreId, PreparedFile file, string fileId, Dictionary<string, FileIngestionRecord> records)
    {
        var now = _time.GetUtcNow();
        var record = new FileIngestionRecord(name, file.ContentHash, fileId, file.FileName, file.Length, FileIngestionStatus.Uploaded)
        {
            VectorStoreId = vectorStoreId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        try
        {
            await _ingestions.SaveAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            FilesLog.IngestionStoreFailed(_logger, "record an upload", name, ex);
            var deleted = false;
            try
            {
                deleted = await DeleteFileCoreAsync(fileId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception deleteError) when (deleteError is ClientResultException or HttpRequestException or Polly.Timeout.TimeoutRejectedException)
            {
                // Reported in the message below.
            }

            throw new FileIngestionStoreException(
                name,
                $"The file ingestion store failed to record the upload {fileId} of '{file.FileName}' for '{name}' ({ex.GetType().Name}: {ex.Message}). " +
                (deleted
                    ? "The upload was deleted, so nothing is left behind; uploads recorded before it are reused when you ingest again."
                    : $"Deleting the upload failed too: delete file {fileId} yourself.") +
                $" Nothing was added to vector store {vectorStoreId} by this ingestion.",
                ex);
        }

        FilesLog.Recorded(_logger, fileId, file.FileName, name, FileIngestionStatus.Uploaded, file.ContentHash);
        records[file.ContentHash] = record;
    }

    /// <summary>
    /// Brings the records in line with the vector store after the wait: every file's state (added, failed), the file ID
    /// the store holds for its content, and the records of replaced files forgotten. Writes only what changed.
    /// </summary>
    private async Task RecordOutcomesAsync(
        string name,
        string vectorStoreId,
        List<FilePlan> plans,
        List<IngestedFile> results,
        IReadOnlyList<VectorStoreFileResult> existing,
        IReadOnlyList<string> removed,
        Dictionary<string, FileIngestionRecord> records,
        CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var writes = new List<FileIngestionRecord>();
        for (var i = 0; i < plans.Count; i++)
        {
            if (plans[i].SameAs is not null)
            {
                continue;
            }

            var result = results[i];
            var status = result.State switch
            {
                VectorStoreFileState.Completed => FileIngestionStatus.Added,
                VectorStoreFileState.Failed or VectorStoreFileState.Cancelled => FileIngestionStatus.Failed,
                _ => FileIngestionStatus.Uploaded,
            };
            records.TryGetValue(result.ContentHash, out var current);
            if (current is not null && current.FileId == result.FileId && current.Status == status && current.VectorStoreId == vectorStoreId
                && current.FileName == result.FileName && current.Bytes == result.Bytes)
            {
                continue;
            }

            writes.Add(new FileIngestionRecord(name, result.ContentHash, result.FileId, result.FileName, result.Bytes, status)
            {
                VectorStoreId = vectorStoreId,
                CreatedAt = current is not null && current.FileId == result.FileId ? current.CreatedAt : now,
                UpdatedAt = now,
            });
        }

        var gone = removed.ToHashSet(StringComparer.Ordinal);
        var forget = existing
            .Where(f => gone.Contains(f.FileId) && f.ContentHash is { } hash && records.TryGetValue(hash, out var r) && r.FileId == f.FileId)
            .Select(f => f.ContentHash!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (writes.Count == 0 && forget.Count == 0)
        {
            return;
        }

        _ = await StoreCallAsync(
            name,
            "record the processed files",
            $"The files are in vector store {vectorStoreId} with their final states; ingesting again finds them there and brings the records up to date.",
            async () =>
            {
                foreach (var record in writes)
                {
                    await _ingestions.SaveAsync(record, cancellationToken).ConfigureAwait(false);
                    FilesLog.Recorded(_logger, record.FileId, record.FileName, name, record.Status, record.ContentHash);
                }

                foreach (var hash in forget)
                {
                    _ = await _ingestions.RemoveAsync(name, hash, cancellationToken).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets the records of a name that <paramref name="forget"/> selects.</summary>
    private async Task ForgetRecordsAsync(string name, string vectorStoreId, IEnumerable<FileIngestionRecord> forget, string consequence, CancellationToken cancellationToken)
    {
        var hashes = forget.Select(r => r.ContentHash).ToList();
        if (hashes.Count == 0)
        {
            return;
        }

        _ = await StoreCallAsync(
            name,
            "forget the records of deleted files",
            consequence,
            async () =>
            {
                foreach (var hash in hashes)
                {
                    _ = await _ingestions.RemoveAsync(name, hash, cancellationToken).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);
        FilesLog.RecordsRemoved(_logger, hashes.Count, name, vectorStoreId);
    }

    /// <summary>The name the kit finds a vector store by (its <c>kit_vector_store</c> metadata), or <see langword="null"/> when it has none or is gone.</summary>
    private async Task<string?> GetKitNameAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        try
        {
            var store = (await _clients.VectorStores.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Value;
            return store.Metadata.TryGetValue(VectorStoreNameKey, out var name) && !string.IsNullOrEmpty(name) ? name : null;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs an operation of the ingestion store; its failure (other than the caller's cancellation) is logged and thrown
    /// as a <see cref="FileIngestionStoreException"/> saying what failed and, in <paramref name="consequence"/>, what was
    /// left on the server.
    /// </summary>
    private async Task<T> StoreCallAsync<T>(string name, string operation, string consequence, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FilesLog.IngestionStoreFailed(_logger, operation, name, ex);
            throw new FileIngestionStoreException(name, $"The file ingestion store failed to {operation} for '{name}' ({ex.GetType().Name}: {ex.Message}). {consequence}", ex);
        }
    }

    /// <summary>Removes files whose name came back with other content that is now processed; deletes their uploads.</summary>
    private async Task<List<string>> RemoveReplacedAsync(string vectorStoreId, IReadOnlyList<VectorStoreFileResult> existing, List<IngestedFile> results, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var current = results.Where(r => r.IsCompleted).ToDictionary(r => r.FileName, StringComparer.Ordinal);
        var keep = results.Select(r => r.FileId).ToHashSet(StringComparer.Ordinal);
        foreach (var old in existing)
        {
            if (old.FileName is { } name && old.ContentHash is not null && current.TryGetValue(name, out var replacement)
                && replacement.ContentHash != old.ContentHash && !keep.Contains(old.FileId))
            {
                await RemoveFromStoreAsync(vectorStoreId, old.FileId, cancellationToken).ConfigureAwait(false);
                await DeleteFileCoreAsync(old.FileId, cancellationToken).ConfigureAwait(false);
                FilesLog.Replaced(_logger, old.FileId, name, vectorStoreId);
                removed.Add(old.FileId);
            }
        }

        return removed;
    }

    private async Task RemoveFromStoreAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        try
        {
            await _clients.VectorStores.RemoveFileFromVectorStoreAsync(vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            // Already gone.
        }
    }

    private async Task<VectorStoreInfo?> FindVectorStoreCoreAsync(string name, CancellationToken cancellationToken)
    {
        var options = new VectorStoreCollectionOptions { Order = VectorStoreCollectionOrder.Descending, PageSizeLimit = 100 };
        await foreach (var store in _clients.VectorStores.GetVectorStoresAsync(options, cancellationToken).ConfigureAwait(false))
        {
            if (store.Metadata.TryGetValue(VectorStoreNameKey, out var value) && value == name)
            {
                return ToInfo(store);
            }
        }

        return null;
    }

    private async Task<VectorStoreInfo> CreateVectorStoreCoreAsync(string name, FileIngestionOptions options, CancellationToken cancellationToken)
    {
        if (options.ExpiresAfterDays is { } days && days is < 1 or > 365)
        {
            throw new ArgumentOutOfRangeException(nameof(options), days, Invariant($"FileIngestionOptions.ExpiresAfterDays must be 1 to 365 (was {days})."));
        }

        var metadata = new JsonObject();
        foreach (var (key, value) in options.Metadata)
        {
            metadata[key] = value;
        }

        metadata[VectorStoreNameKey] = name;
        var body = new JsonObject { ["name"] = name, ["metadata"] = metadata };
        if (options.ExpiresAfterDays is { } expiry)
        {
            body["expires_after"] = new JsonObject { ["anchor"] = "last_active_at", ["days"] = expiry };
        }

        using var content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        var result = await _clients.VectorStores.CreateVectorStoreAsync(content, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
        var store = ToInfo(ModelReaderWriter.Read<VectorStore>(result.GetRawResponse().Content)!);
        FilesLog.VectorStoreCreated(_logger, store.Id, name);
        await _storage.ReportUsageAsync(store.Id, store.UsageBytes, options.ConversationKey, ReadOnly(options.Tags), cancellationToken).ConfigureAwait(false);
        return store;
    }

    private async Task<long> ReportStorageCoreAsync(string vectorStoreId, string? conversationKey, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
    {
        var store = (await _clients.VectorStores.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false)).Value;
        await _storage.ReportUsageAsync(vectorStoreId, store.UsageBytes, conversationKey, tags, cancellationToken).ConfigureAwait(false);
        return store.UsageBytes;
    }

    private async Task<List<VectorStoreFileResult>> ListFilesAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        var files = new List<VectorStoreFileResult>();
        var options = new VectorStoreFileCollectionOptions { PageSizeLimit = 100, Order = VectorStoreFileCollectionOrder.Ascending };
        await foreach (var file in _clients.VectorStores.GetVectorStoreFilesAsync(vectorStoreId, options, cancellationToken).ConfigureAwait(false))
        {
            files.Add(ToResult(file));
        }

        return files;
    }

    private static void CheckCapacity(string vectorStore, int current, int adding)
    {
        if (current + adding > FileLimits.MaxFilesPerVectorStore)
        {
            throw new FileLimitException(
                vectorStore,
                Invariant($"Vector store '{vectorStore}' holds {current:N0} files; adding {adding:N0} would pass the limit of {FileLimits.MaxFilesPerVectorStore:N0} files per vector store."));
        }
    }

    /// <summary>Creates the batches (up to 500 files each), then waits for each and reads every file's final state.</summary>
    private async Task<(IReadOnlyList<string> BatchIds, IReadOnlyList<VectorStoreFileResult> Files)> AddAndWaitAsync(
        string vectorStoreId, IReadOnlyList<BatchEntry> entries, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var batchIds = new List<string>();
        foreach (var chunk in entries.Chunk(FileLimits.MaxFilesPerBatch))
        {
            batchIds.Add(await CreateBatchAsync(vectorStoreId, chunk, cancellationToken).ConfigureAwait(false));
        }

        var files = new List<VectorStoreFileResult>();
        foreach (var batchId in batchIds)
        {
            files.AddRange(await WaitForBatchCoreAsync(vectorStoreId, batchId, started, cancellationToken).ConfigureAwait(false));
        }

        return (batchIds, files);
    }

    /// <summary>
    /// Creates one batch with per-file attributes (<c>files: [{file_id, attributes, chunking_strategy}]</c>); a server
    /// that refuses that form gets <c>file_ids</c> and the attributes set one file at a time.
    /// </summary>
    private async Task<string> CreateBatchAsync(string vectorStoreId, BatchEntry[] entries, CancellationToken cancellationToken)
    {
        var files = new JsonArray();
        foreach (var entry in entries)
        {
            var file = new JsonObject { ["file_id"] = entry.FileId, ["attributes"] = entry.Attributes.DeepClone() };
            if (entry.Chunking is { } chunking)
            {
                file["chunking_strategy"] = chunking.ToJson();
            }

            files.Add(file);
        }

        VectorStoreFileBatch batch;
        try
        {
            batch = await PostBatchAsync(vectorStoreId, new JsonObject { ["files"] = files }, cancellationToken).ConfigureAwait(false);
        }
        catch (ClientResultException ex) when (ex.Status == 400 && RefusesFilesForm(ex))
        {
            FilesLog.BatchFilesFallback(_logger, ex.Message);
            var body = new JsonObject { ["file_ids"] = new JsonArray([.. entries.Select(e => (JsonNode?)e.FileId)]) };
            if (entries[0].Chunking is { } chunking)
            {
                body["chunking_strategy"] = chunking.ToJson();
            }

            batch = await PostBatchAsync(vectorStoreId, body, cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries.Where(e => e.Attributes.Count > 0))
            {
                using var attributes = BinaryContent.Create(BinaryData.FromString(new JsonObject { ["attributes"] = entry.Attributes.DeepClone() }.ToJsonString()));
                await _clients.VectorStores.UpdateVectorStoreFileAttributesAsync(vectorStoreId, entry.FileId, attributes, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
            }
        }

        FilesLog.BatchAdded(_logger, batch.BatchId, entries.Length, vectorStoreId);
        return batch.BatchId;
    }

    private async Task<VectorStoreFileBatch> PostBatchAsync(string vectorStoreId, JsonObject body, CancellationToken cancellationToken)
    {
        using var content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        var result = await _clients.VectorStores.AddFileBatchToVectorStoreAsync(vectorStoreId, content, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
        return ModelReaderWriter.Read<VectorStoreFileBatch>(result.GetRawResponse().Content)!;
    }

    private static bool RefusesFilesForm(ClientResultException exception)
    {
        try
        {
            if (exception.GetRawResponse()?.Content is { } content && content.ToMemory().Length > 0)
            {
                using var document = JsonDocument.Parse(content);
                if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    var param = error.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    return param?.StartsWith("files", StringComparison.Ordinal) == true
                        || message?.Contains("'files'", StringComparison.Ordinal) == true
                        || message?.Contains("file_ids", StringComparison.Ordinal) == true;
                }
            }
        }
        catch (JsonException)
        {
            // Not an OpenAI error body: not the refusal this fallback is for.
        }

        return false;
    }

    private async Task<IReadOnlyList<VectorStoreFileResult>> WaitForBatchCoreAsync(string vectorStoreId, string batchId, DateTimeOffset started, CancellationToken cancellationToken)
    {
        await PollAsync(
            vectorStoreId,
            started,
            async ct =>
            {
                var result = await _clients.VectorStores.GetVectorStoreFileBatchAsync(vectorStoreId, batchId, ct).ConfigureAwait(false);
                var batch = result.Value;
                return (batch.Status != VectorStoreFileBatchStatus.InProgress, batch.FileCounts.InProgress, AssistantsProtocolBackend.PollHint(result.GetRawResponse()));
            },
            cancellationToken).ConfigureAwait(false);

        var files = new List<VectorStoreFileResult>();
        var options = new VectorStoreFileCollectionOptions { PageSizeLimit = 100, Order = VectorStoreFileCollectionOrder.Ascending };
        await foreach (var file in _clients.VectorStores.GetVectorStoreFilesInBatchAsync(vectorStoreId, batchId, options, cancellationToken).ConfigureAwait(false))
        {
            files.Add(ToResult(file));
        }

        return files;
    }

    private async Task<VectorStoreFileResult> WaitForFileAsync(string vectorStoreId, string fileId, DateTimeOffset started, CancellationToken cancellationToken)
    {
        VectorStoreFileResult? last = null;
        await PollAsync(
            vectorStoreId,
            started,
            async ct =>
            {
                var result = await _clients.VectorStores.GetVectorStoreFileAsync(vectorStoreId, fileId, ct).ConfigureAwait(false);
                last = ToResult(result.Value);
                return (last.State != VectorStoreFileState.InProgress, last.State == VectorStoreFileState.InProgress ? 1 : 0, AssistantsProtocolBackend.PollHint(result.GetRawResponse()));
            },
            cancellationToken).ConfigureAwait(false);
        return last!;
    }

    /// <summary>
    /// The wait: the kit's pure delay function (<see cref="PollDelayCalculator"/>) with the processing options, a deadline
    /// of <see cref="FileProcessingOptions.Timeout"/> from the start of the operation, and the caller's cancellation.
    /// </summary>
    private async Task PollAsync(
        string vectorStoreId,
        DateTimeOffset started,
        Func<CancellationToken, Task<(bool Done, int Pending, TimeSpan? Hint)>> check,
        CancellationToken cancellationToken)
    {
        var polling = _options.Processing.ToPolling();
        var deadline = started + polling.Timeout;
        var segmentStart = _time.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            var (done, pending, hint) = await check(cancellationToken).ConfigureAwait(false);
            if (done)
            {
                return;
            }

            var now = _time.GetUtcNow();
            if (now >= deadline)
            {
                FilesLog.TimedOut(_logger, vectorStoreId, polling.Timeout, pending);
                throw new FileProcessingTimeoutException(vectorStoreId, polling.Timeout, pending);
            }

            var delay = PollDelayCalculator.NextDelay(new PollDelayInput(attempt, now - segmentStart, hint, null, Random(), deadline - now), polling);
            FilesLog.Waiting(_logger, vectorStoreId, pending, delay);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static VectorStoreInfo ToInfo(VectorStore store) => new(
        store.Id,
        store.Name,
        store.Status == VectorStoreStatus.InProgress ? "in_progress" : store.Status == VectorStoreStatus.Expired ? "expired" : "completed",
        store.UsageBytes,
        store.FileCounts?.Total ?? 0,
        store.CreatedAt,
        store.Metadata.ToDictionary(StringComparer.Ordinal));

    private static VectorStoreFileResult ToResult(VectorStoreFile file) =>
        new(file.FileId, ToState(file.Status), file.LastError?.Code.ToString(), file.LastError?.Message, file.UsageInBytes ?? 0)
        {
            ContentHash = VectorStoreFileAttributes.ReadString(file.Attributes, ContentHashAttribute),
            FileName = VectorStoreFileAttributes.ReadString(file.Attributes, FileNameAttribute),
        };

    private static VectorStoreFileState ToState(VectorStoreFileStatus status) => status switch
    {
        VectorStoreFileStatus.Completed => VectorStoreFileState.Completed,
        VectorStoreFileStatus.Failed => VectorStoreFileState.Failed,
        VectorStoreFileStatus.Cancelled => VectorStoreFileState.Cancelled,
        _ => VectorStoreFileState.InProgress,
    };

    private static string Wire(VectorStoreFileState state) => state switch
    {
        VectorStoreFileState.Completed => "completed",
        VectorStoreFileState.Failed => "failed",
        VectorStoreFileState.Cancelled => "cancelled",
        _ => "in_progress",
    };

    private static IReadOnlyDictionary<string, string>? ReadOnly(IDictionary<string, string> tags) =>
        tags.Count == 0 ? null : new Dictionary<string, string>(tags, StringComparer.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>One file of a batch to create.</summary>
    private sealed record BatchEntry(string FileId, JsonObject Attributes, ChunkingStrategy? Chunking);

    /// <summary>What ingestion does with one file.</summary>
    private sealed record FilePlan(PreparedFile File, IngestionOutcome Outcome, VectorStoreFileResult? Existing)
    {
        public string? FileId { get; set; }

        /// <summary>Gets the earlier file of this ingestion with the same content, when there is one.</summary>
        public FilePlan? SameAs { get; init; }
    }
}
