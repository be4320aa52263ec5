using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The Files surface: multipart upload (<c>POST /files</c> with <c>file</c> and <c>purpose</c>), list, get, content
/// download and delete. As on the real service, the content of a file uploaded with purpose <c>assistants</c> cannot be
/// downloaded (400); code interpreter outputs (<c>assistants_output</c>) can.
/// </summary>
internal sealed class FilesApi : IApiSurface
{
    private static readonly string[] Purposes = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"];

    private readonly EmulatorStore _store;

    public FilesApi(EmulatorStore store)
    {
        _store = store;
    }

    public static JsonObject Render(FileRecord file) => new()
    {
        ["object"] = "file",
        ["id"] = file.Id,
        ["purpose"] = file.Purpose,
        ["filename"] = file.FileName,
        ["bytes"] = file.Content.LongLength,
        ["created_at"] = file.CreatedAt,
        ["expires_at"] = null,
        ["status"] = "processed",
        ["status_details"] = null,
    };

    public void Register(RouteTable routes)
    {
        routes.Map("POST", "/files", Upload, assistantsBeta: false);
        routes.Map("GET", "/files", List, assistantsBeta: false);
        routes.Map("GET", "/files/{file_id}", Get, assistantsBeta: false);
        routes.Map("GET", "/files/{file_id}/content", Content, assistantsBeta: false);
        routes.Map("DELETE", "/files/{file_id}", Delete, assistantsBeta: false);
    }

    /// <summary>Stores a file (under the state lock); used by uploads and by code interpreter steps.</summary>
    public static FileRecord Add(EmulatorStore store, string fileName, string purpose, byte[] content)
    {
        var file = new FileRecord
        {
            Id = store.NewAlphanumericId("file-", 22),
            Seq = store.NextSeq(),
            CreatedAt = EmulatorStore.Seconds(store.Now),
            FileName = fileName,
            Purpose = purpose,
            Content = content,
        };
        store.Data.Files[file.Id] = file;
        store.Touch();
        return file;
    }

    private ApiResult Upload(ApiRequest request)
    {
        var (fileName, content, purpose) = ReadForm(request);
        if (purpose is null)
        {
            throw ApiException.MissingParameter("purpose");
        }

        if (Array.IndexOf(Purposes, purpose) < 0)
        {
            throw ApiException.InvalidValue("purpose", purpose, Purposes);
        }

        if (content is null || fileName is null)
        {
            throw ApiException.MissingParameter("file");
        }

        lock (_store.Sync)
        {
            return ApiResult.Ok(Render(Add(_store, fileName, purpose, content)));
        }
    }

    private ApiResult List(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        var purpose = request.Query.TryGetValue("purpose", out var p) && !string.IsNullOrEmpty(p.ToString()) ? p.ToString() : null;
        lock (_store.Sync)
        {
            var files = _store.Data.Files.Values.Where(f => purpose is null || f.Purpose == purpose).OrderBy(f => f.Seq).ToList();
            return ApiResult.Ok(query.Page(files, f => f.Id, Render));
        }
    }

    private ApiResult Get(ApiRequest request)
    {
        lock (_store.Sync)
        {
            return ApiResult.Ok(Render(Find(request["file_id"])));
        }
    }

    private ApiResult Content(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var file = Find(request["file_id"]);
            if (file.Purpose == "assistants")
            {
                throw ApiException.BadRequest("Not allowed to download files of purpose: assistants");
            }

            return new ApiResult { Content = file.Content, ContentType = ContentTypeOf(file.FileName) };
        }
    }

    private ApiResult Delete(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var file = Find(request["file_id"]);
            _store.Data.Files.Remove(file.Id);
            _store.Touch();
            return ApiResult.Ok(new JsonObject { ["object"] = "file", ["deleted"] = true, ["id"] = file.Id });
        }
    }

    private FileRecord Find(string id) =>
        _store.Data.Files.TryGetValue(id, out var file)
            ? file
            : throw new ApiException(404, string.Create(CultureInfo.InvariantCulture, $"No such File object: {id}"), "invalid_request_error", "id", null);

    /// <summary>Reads the multipart form: the <c>file</c> part (name and bytes) and the <c>purpose</c> field.</summary>
    private static (string? FileName, byte[]? Content, string? Purpose) ReadForm(ApiRequest request)
    {
        if (request.ContentType is not { } contentType || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.BadRequest("Invalid content type: the file upload must be multipart/form-data.", null, "invalid_content_type");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw ApiException.BadRequest("Invalid content type: the multipart boundary is missing.", null, "invalid_content_type");
        }

        string? fileName = null;
        string? purpose = null;
        byte[]? content = null;
        var reader = new MultipartReader(boundary, new MemoryStream(request.RawBody));
        try
        {
            for (var section = reader.ReadNextSectionAsync().GetAwaiter().GetResult(); section is not null; section = reader.ReadNextSectionAsync().GetAwaiter().GetResult())
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                using var buffer = new MemoryStream();
                section.Body.CopyTo(buffer);
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file")
                {
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    content = buffer.ToArray();
                }
                else if (name == "purpose")
                {
                    purpose = System.Text.Encoding.UTF8.GetString(buffer.ToArray()).Trim();
                }
            }
        }
        catch (IOException ex)
        {
            throw ApiException.BadRequest($"Invalid multipart body: {ex.Message}", null, "invalid_body");
        }

        return (string.IsNullOrEmpty(fileName) ? null : fileName, content, purpose);
    }

    private static string ContentTypeOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".csv" => "text/csv",
        ".txt" or ".md" => "text/plain",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
