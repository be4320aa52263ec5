using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The vector stores surface: stores (create, list, get, modify, delete), their files (add, list with <c>filter</c>,
/// get, update attributes, remove) and file batches (create with <c>file_ids</c> or per-file <c>files</c>, get, cancel,
/// list files). Files are processed lazily on the emulator's clock (<see cref="AssistantsEmulatorOptions.FileProcessingDuration"/>).
/// </summary>
internal sealed class VectorStoresApi : IApiSurface
{
    private readonly EmulatorStore _store;
    private readonly VectorStoreEngine _engine;

    public VectorStoresApi(EmulatorStore store, VectorStoreEngine engine)
    {
        _store = store;
        _engine = engine;
    }

    public void Register(RouteTable routes)
    {
        routes.Map("POST", "/vector_stores", Create, assistantsBeta: false);
        routes.Map("GET", "/vector_stores", List, assistantsBeta: false);
        routes.Map("GET", "/vector_stores/{vector_store_id}", Get, assistantsBeta: false);
        routes.Map("POST", "/vector_stores/{vector_store_id}", Modify, assistantsBeta: false);
        routes.Map("DELETE", "/vector_stores/{vector_store_id}", Delete, assistantsBeta: false);

        routes.Map("POST", "/vector_stores/{vector_store_id}/files", AddFile, assistantsBeta: false);
        routes.Map("GET", "/vector_stores/{vector_store_id}/files", ListFiles, assistantsBeta: false);
        routes.Map("GET", "/vector_stores/{vector_store_id}/files/{file_id}", GetFile, assistantsBeta: false);
        routes.Map("POST", "/vector_stores/{vector_store_id}/files/{file_id}", UpdateFile, assistantsBeta: false);
        routes.Map("DELETE", "/vector_stores/{vector_store_id}/files/{file_id}", RemoveFile, assistantsBeta: false);

        routes.Map("POST", "/vector_stores/{vector_store_id}/file_batches", CreateBatch, assistantsBeta: false);
        routes.Map("GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}", GetBatch, assistantsBeta: false);
        routes.Map("POST", "/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel", CancelBatch, assistantsBeta: false);
        routes.Map("GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}/files", ListBatchFiles, assistantsBeta: false);
    }

    private ApiResult Create(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("name", "description", "file_ids", "chunking_strategy", "metadata", "expires_after");
        var name = body.String("name");
        var description = body.String("description", 512);
        var fileIds = Normalize.StringArray(body, "file_ids", 500);
        var chunking = VectorStoreEngine.Chunking(body.Object("chunking_strategy"));
        var metadata = body.Metadata();
        var expiresAfter = ExpiresAfter(body);
        lock (_store.Sync)
        {
            var store = _engine.Create(name, description, metadata, expiresAfter);
            foreach (var fileId in fileIds.Select(f => (string)f!))
            {
                _engine.AddFile(store, fileId, [], (JsonObject)chunking.DeepClone(), null, "file_ids");
            }

            return ApiResult.Ok(VectorStoreEngine.Render(store));
        }
    }

    private ApiResult List(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var stores = _store.Data.VectorStores.Values.OrderBy(s => s.Seq).ToList();
            foreach (var store in stores)
            {
                _engine.Advance(store, _store.Now);
            }

            return ApiResult.Ok(query.Page(stores, s => s.Id, VectorStoreEngine.Render));
        }
    }

    private ApiResult Get(ApiRequest request)
    {
        lock (_store.Sync)
        {
            return ApiResult.Ok(VectorStoreEngine.Render(Find(request)));
        }
    }

    private ApiResult Modify(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("name", "metadata", "expires_after");
        var name = body.String("name");
        var metadata = body.Metadata();
        var expiresAfter = body.Contains("expires_after") ? ExpiresAfter(body) : null;
        lock (_store.Sync)
        {
            var store = Find(request);
            store.Name = body.Contains("name") ? name : store.Name;
            store.Metadata = metadata ?? store.Metadata;
            store.ExpiresAfter = body.Contains("expires_after") ? expiresAfter : store.ExpiresAfter;
            _store.Touch();
            return ApiResult.Ok(VectorStoreEngine.Render(store));
        }
    }

    private ApiResult Delete(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var store = Find(request);
            _store.Data.VectorStores.Remove(store.Id);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(store.Id, "vector_store.deleted"));
        }
    }

    private ApiResult AddFile(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("file_id", "attributes", "chunking_strategy");
        var fileId = body.RequiredString("file_id");
        var attributes = VectorStoreEngine.Attributes(body.Object("attributes"));
        var chunking = VectorStoreEngine.Chunking(body.Object("chunking_strategy"));
        lock (_store.Sync)
        {
            var store = Find(request);
            return ApiResult.Ok(VectorStoreEngine.RenderFile(store, _engine.AddFile(store, fileId, attributes, chunking, null)));
        }
    }

    private ApiResult ListFiles(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        var filter = Filter(request);
        lock (_store.Sync)
        {
            var store = Find(request);
            var files = store.Files.Where(f => filter is null || f.Status == filter).OrderBy(f => f.Seq).ToList();
            return ApiResult.Ok(query.Page(files, f => f.FileId, f => VectorStoreEngine.RenderFile(store, f)));
        }
    }

    private ApiResult GetFile(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var store = Find(request);
            return ApiResult.Ok(VectorStoreEngine.RenderFile(store, FindFile(store, request["file_id"])));
        }
    }

    private ApiResult UpdateFile(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("attributes");
        if (!body.Contains("attributes"))
        {
            throw ApiException.MissingParameter("attributes");
        }

        var attributes = VectorStoreEngine.Attributes(body.Object("attributes"));
        lock (_store.Sync)
        {
            var store = Find(request);
            var file = FindFile(store, request["file_id"]);
            file.Attributes = attributes;
            _store.Touch();
            return ApiResult.Ok(VectorStoreEngine.RenderFile(store, file));
        }
    }

    private ApiResult RemoveFile(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var store = Find(request);
            var file = FindFile(store, request["file_id"]);
            store.Files.Remove(file);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(file.FileId, "vector_store.file.deleted"));
        }
    }

    private ApiResult CreateBatch(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("file_ids", "files", "attributes", "chunking_strategy");
        if (body.Contains("file_ids") && body.Contains("files"))
        {
            throw ApiException.BadRequest("Only one of 'file_ids' and 'files' may be given.", "files", "mutually_exclusive_parameters");
        }

        var entries = new List<(string FileId, string Param, JsonObject Attributes, JsonObject Chunking)>();
        if (body.Contains("files"))
        {
            var files = body.Objects("files", 500);
            for (var i = 0; i < files.Count; i++)
            {
                var file = files[i];
                file.AllowOnly("file_id", "attributes", "chunking_strategy");
                entries.Add((file.RequiredString("file_id"), file.PathOf("file_id"), VectorStoreEngine.Attributes(file.Object("attributes")), VectorStoreEngine.Chunking(file.Object("chunking_strategy"))));
            }
        }
        else
        {
            var attributes = VectorStoreEngine.Attributes(body.Object("attributes"));
            var chunking = VectorStoreEngine.Chunking(body.Object("chunking_strategy"));
            var ids = Normalize.StringArray(body, "file_ids", 500);
            for (var i = 0; i < ids.Count; i++)
            {
                entries.Add(((string)ids[i]!, string.Create(CultureInfo.InvariantCulture, $"file_ids[{i}]"), (JsonObject)attributes.DeepClone(), (JsonObject)chunking.DeepClone()));
            }
        }

        if (entries.Count == 0)
        {
            throw ApiException.MissingParameter("file_ids");
        }

        lock (_store.Sync)
        {
            var store = Find(request);
            foreach (var entry in entries)
            {
                if (!_store.Data.Files.ContainsKey(entry.FileId))
                {
                    throw new ApiException(404, string.Create(CultureInfo.InvariantCulture, $"No such File object: {entry.FileId}"), "invalid_request_error", entry.Param, null);
                }
            }

            var batch = new FileBatchRecord
            {
                Id = _store.NewHexId("vsfb_", 32),
                Seq = _store.NextSeq(),
                CreatedAt = EmulatorStore.Seconds(_store.Now),
                VectorStoreId = store.Id,
                FileIds = [.. entries.Select(e => e.FileId)],
            };
            store.Batches.Add(batch);
            foreach (var entry in entries)
            {
                _engine.AddFile(store, entry.FileId, entry.Attributes, entry.Chunking, batch.Id, entry.Param);
            }

            return ApiResult.Ok(VectorStoreEngine.RenderBatch(store, batch));
        }
    }

    private ApiResult GetBatch(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var store = Find(request);
            return ApiResult.Ok(VectorStoreEngine.RenderBatch(store, FindBatch(store, request["batch_id"])));
        }
    }

    private ApiResult CancelBatch(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var store = Find(request);
            var batch = FindBatch(store, request["batch_id"]);
            if (store.Files.Any(f => f.BatchId == batch.Id && f.IsProcessing))
            {
                _engine.Cancel(store, batch);
            }

            return ApiResult.Ok(VectorStoreEngine.RenderBatch(store, batch));
        }
    }

    private ApiResult ListBatchFiles(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        var filter = Filter(request);
        lock (_store.Sync)
        {
            var store = Find(request);
            var batch = FindBatch(store, request["batch_id"]);
            var files = store.Files.Where(f => f.BatchId == batch.Id && (filter is null || f.Status == filter)).OrderBy(f => f.Seq).ToList();
            return ApiResult.Ok(query.Page(files, f => f.FileId, f => VectorStoreEngine.RenderFile(store, f)));
        }
    }

    /// <summary>Finds a vector store and settles its files' processing up to now.</summary>
    private VectorStoreRecord Find(ApiRequest request)
    {
        var id = request["vector_store_id"];
        if (!_store.Data.VectorStores.TryGetValue(id, out var store))
        {
            throw ApiException.NotFound("vector store", id);
        }

        _engine.Advance(store, _store.Now);
        return store;
    }

    private static VectorStoreFileRecord FindFile(VectorStoreRecord store, string fileId) =>
        store.Files.Find(f => f.FileId == fileId) ?? throw ApiException.NotFound("vector store file", fileId);

    private static FileBatchRecord FindBatch(VectorStoreRecord store, string batchId) =>
        store.Batches.Find(b => b.Id == batchId) ?? throw ApiException.NotFound("vector store file batch", batchId);

    private static string? Filter(ApiRequest request)
    {
        if (!request.Query.TryGetValue("filter", out var value) || string.IsNullOrEmpty(value.ToString()))
        {
            return null;
        }

        var filter = value.ToString();
        return filter is "in_progress" or "completed" or "failed" or "cancelled"
            ? filter
            : throw ApiException.InvalidValue("filter", filter, ["in_progress", "completed", "failed", "cancelled"]);
    }

    private static JsonObject? ExpiresAfter(JsonBody body)
    {
        var expires = body.Object("expires_after");
        if (expires is null)
        {
            return null;
        }

        expires.AllowOnly("anchor", "days");
        var anchor = expires.Enum("anchor", "last_active_at") ?? throw ApiException.MissingParameter(expires.PathOf("anchor"));
        var days = expires.Integer("days", 1, 365) ?? throw ApiException.MissingParameter(expires.PathOf("days"));
        return new JsonObject { ["anchor"] = anchor, ["days"] = days };
    }
}
