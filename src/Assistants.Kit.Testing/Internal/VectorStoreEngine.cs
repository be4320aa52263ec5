using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Files and vector stores: adding files (processing ends lazily at <c>created + FileProcessingDuration</c>, with the
/// scripted or built-in failure), their wire shapes, and the deterministic retrieval file search runs on.
/// </summary>
/// <remarks>
/// Retrieval: a file's text (UTF-8, for text formats) is cut into chunks at blank lines (a lone heading joins the
/// paragraph under it, unless that starts with a heading too; a chunk longer than <c>max_chunk_size_tokens × 4</c>
/// characters is cut at line ends). The query's words of three or more letters, minus common words, are its terms; a chunk's score is the share of terms it contains (a term
/// also matches a word it is a prefix of, or that is a prefix of it, from four letters on). Results are ordered by score,
/// then by how often the chunk uses the terms, then by vector store, file and chunk order.
/// </remarks>
internal sealed class VectorStoreEngine
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "your", "with", "this", "that", "from", "what", "whats", "which",
        "who", "why", "how", "when", "where", "can", "could", "should", "would", "does", "did", "was", "were", "has", "have",
        "had", "our", "its", "about", "into", "than", "then", "them", "they", "their", "there", "these", "those", "will",
        "using", "use", "files", "file", "available", "please", "tell", "me", "any", "all",
    };

    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".c", ".cpp", ".cs", ".css", ".go", ".html", ".java", ".js", ".json", ".md", ".php", ".py", ".rb", ".sh", ".tex", ".ts", ".txt",
        ".csv", ".xml",
    };

    private readonly EmulatorStore _store;
    private readonly AssistantsEmulatorOptions _options;
    private readonly EmulatorScript _script;

    public VectorStoreEngine(EmulatorStore store, AssistantsEmulatorOptions options, EmulatorScript script)
    {
        _store = store;
        _options = options;
        _script = script;
    }

    public static JsonObject DefaultChunking() => new()
    {
        ["type"] = "static",
        ["static"] = new JsonObject { ["max_chunk_size_tokens"] = 800, ["chunk_overlap_tokens"] = 400 },
    };

    /// <summary>Validates a <c>chunking_strategy</c> and answers it as the service stores it (auto is static 800/400).</summary>
    public static JsonObject Chunking(JsonBody? strategy)
    {
        if (strategy is null)
        {
            return DefaultChunking();
        }

        var type = strategy.Enum("type", "auto", "static") ?? throw ApiException.MissingParameter(strategy.PathOf("type"));
        if (type == "auto")
        {
            strategy.AllowOnly("type");
            return DefaultChunking();
        }

        strategy.AllowOnly("type", "static");
        var settings = strategy.Object("static") ?? throw ApiException.MissingParameter(strategy.PathOf("static"));
        settings.AllowOnly("max_chunk_size_tokens", "chunk_overlap_tokens");
        var max = settings.Integer("max_chunk_size_tokens", 100, 4096) ?? throw ApiException.MissingParameter(settings.PathOf("max_chunk_size_tokens"));
        var overlap = settings.Integer("chunk_overlap_tokens", 0) ?? throw ApiException.MissingParameter(settings.PathOf("chunk_overlap_tokens"));
        if (overlap > max / 2)
        {
            throw ApiException.BadRequest(
                Invariant($"Invalid '{settings.PathOf("chunk_overlap_tokens")}': chunk_overlap_tokens ({overlap}) must not exceed half of max_chunk_size_tokens ({max})."),
                settings.PathOf("chunk_overlap_tokens"),
                "invalid_value");
        }

        return new JsonObject { ["type"] = "static", ["static"] = new JsonObject { ["max_chunk_size_tokens"] = max, ["chunk_overlap_tokens"] = overlap } };
    }

    /// <summary>Validates vector store file <c>attributes</c>: at most 16; strings (≤ 512), numbers or booleans.</summary>
    public static JsonObject Attributes(JsonBody? attributes)
    {
        var result = new JsonObject();
        if (attributes is null)
        {
            return result;
        }

        if (attributes.Node.Count > 16)
        {
            throw ApiException.BadRequest(
                Invariant($"Invalid '{attributes.PathOf("").TrimEnd('.')}': too many properties. Expected an object with at most 16 properties, but got an object with {attributes.Node.Count} properties instead."),
                null,
                "object_above_max_properties");
        }

        foreach (var (key, value) in attributes.Node)
        {
            if (key.Length > 64)
            {
                throw ApiException.BadRequest(Invariant($"Invalid '{attributes.PathOf(key)}': attribute keys hold at most 64 characters."), attributes.PathOf(key), "invalid_value");
            }

            if (value is not JsonValue v || v.GetValueKind() is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
            {
                throw ApiException.InvalidType(attributes.PathOf(key), "a string, number, or boolean", value);
            }

            if (v.TryGetValue(out string? s) && s.Length > 512)
            {
                throw ApiException.BadRequest(Invariant($"Invalid '{attributes.PathOf(key)}': string too long. Expected a string with maximum length 512, but got a string with length {s.Length} instead."), attributes.PathOf(key), "string_above_max_length");
            }

            result[key] = v.DeepClone();
        }

        return result;
    }

    public VectorStoreRecord Create(string? name, string? description, Dictionary<string, string>? metadata, JsonObject? expiresAfter)
    {
        var seconds = EmulatorStore.Seconds(_store.Now);
        var store = new VectorStoreRecord
        {
            Id = _store.NewVectorStoreId(),
            Seq = _store.NextSeq(),
            CreatedAt = seconds,
            LastActiveAt = seconds,
            Name = name,
            Description = description,
            Metadata = metadata ?? new(StringComparer.Ordinal),
            ExpiresAfter = expiresAfter,
        };
        _store.Data.VectorStores[store.Id] = store;
        _store.Touch();
        return store;
    }

    /// <summary>Adds (or adds again) a file; its outcome is decided now and shows once its processing time has passed.</summary>
    public VectorStoreFileRecord AddFile(VectorStoreRecord store, string fileId, JsonObject attributes, JsonObject chunking, string? batchId, string param = "file_id")
    {
        if (!_store.Data.Files.TryGetValue(fileId, out var file))
        {
            throw new ApiException(404, Invariant($"No such File object: {fileId}"), "invalid_request_error", param, null);
        }

        var now = _store.Now;
        store.Files.RemoveAll(f => f.FileId == fileId);
        var record = new VectorStoreFileRecord
        {
            FileId = fileId,
            Seq = _store.NextSeq(),
            CreatedAt = EmulatorStore.Seconds(now),
            ReadyAt = now + _options.FileProcessingDuration,
            BatchId = batchId,
            Attributes = attributes,
            ChunkingStrategy = chunking,
            Bytes = file.Content.Length,
            PendingError = OutcomeOf(file),
        };
        store.Files.Add(record);
        store.LastActiveAt = EmulatorStore.Seconds(now);
        _store.Touch();
        return record;
    }

    /// <summary>Finishes the processing of every file whose time has come.</summary>
    public void Advance(VectorStoreRecord store, DateTimeOffset now)
    {
        foreach (var file in store.Files)
        {
            if (!file.IsProcessing || now < file.ReadyAt)
            {
                continue;
            }

            if (file.PendingError is { } error)
            {
                file.Status = "failed";
                file.LastError = error;
            }
            else
            {
                file.Status = "completed";
                file.UsageBytes = file.Bytes;
            }

            _store.Touch();
        }
    }

    public void Cancel(VectorStoreRecord store, FileBatchRecord batch)
    {
        batch.Cancelled = true;
        foreach (var file in store.Files.Where(f => f.BatchId == batch.Id && f.IsProcessing))
        {
            file.Status = "cancelled";
        }

        _store.Touch();
    }

    public static JsonObject Render(VectorStoreRecord store)
    {
        var usage = store.Files.Sum(f => f.UsageBytes);
        var processing = store.Files.Any(f => f.IsProcessing);
        return new JsonObject
        {
            ["id"] = store.Id,
            ["object"] = "vector_store",
            ["created_at"] = store.CreatedAt,
            ["name"] = store.Name,
            ["description"] = store.Description,
            ["usage_bytes"] = usage,
            ["file_counts"] = Counts(store.Files),
            ["status"] = processing ? "in_progress" : "completed",
            ["expires_after"] = store.ExpiresAfter?.DeepClone(),
            ["expires_at"] = store.ExpiresAfter?["days"] is JsonValue days && days.TryGetValue(out int d) ? store.LastActiveAt + (d * 86400L) : null,
            ["last_active_at"] = store.LastActiveAt,
            ["metadata"] = Internal.Render.Metadata(store.Metadata),
        };
    }

    public static JsonObject RenderFile(VectorStoreRecord store, VectorStoreFileRecord file) => new()
    {
        ["id"] = file.FileId,
        ["object"] = "vector_store.file",
        ["usage_bytes"] = file.UsageBytes,
        ["created_at"] = file.CreatedAt,
        ["vector_store_id"] = store.Id,
        ["status"] = file.Status,
        ["last_error"] = file.LastError is { } e ? new JsonObject { ["code"] = e.Code, ["message"] = e.Message } : null,
        ["chunking_strategy"] = file.ChunkingStrategy.DeepClone(),
        ["attributes"] = file.Attributes.DeepClone(),
    };

    public static JsonObject RenderBatch(VectorStoreRecord store, FileBatchRecord batch)
    {
        var files = store.Files.Where(f => f.BatchId == batch.Id).ToList();
        var status = batch.Cancelled ? "cancelled" : files.Any(f => f.IsProcessing) ? "in_progress" : "completed";
        return new JsonObject
        {
            ["id"] = batch.Id,
            ["object"] = "vector_store.files_batch",
            ["created_at"] = batch.CreatedAt,
            ["vector_store_id"] = store.Id,
            ["status"] = status,
            ["file_counts"] = Counts(files),
        };
    }

    /// <summary>
    /// Searches the completed files of the given vector stores and the given loose files (message attachments).
    /// </summary>
    public List<SearchHit> Search(IEnumerable<string> vectorStoreIds, IEnumerable<string> attachedFileIds, string query, int maxResults, double scoreThreshold)
    {
        var terms = Terms(query);
        var hits = new List<SearchHit>();
        if (terms.Count == 0)
        {
            return hits;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = 0;
        var now = _store.Now;
        foreach (var id in vectorStoreIds)
        {
            if (!_store.Data.VectorStores.TryGetValue(id, out var store))
            {
                continue;
            }

            Advance(store, now);
            foreach (var file in store.Files.Where(f => f.Status == "completed"))
            {
                if (seen.Add(file.FileId) && _store.Data.Files.TryGetValue(file.FileId, out var record))
                {
                    Score(record, file.ChunkingStrategy, file.Attributes, terms, hits, ref order);
                }
            }
        }

        foreach (var fileId in attachedFileIds)
        {
            if (seen.Add(fileId) && _store.Data.Files.TryGetValue(fileId, out var record))
            {
                Score(record, DefaultChunking(), [], terms, hits, ref order);
            }
        }

        return [.. hits.Where(h => h.Score >= scoreThreshold).OrderByDescending(h => h.Score).ThenByDescending(h => h.Occurrences).ThenBy(h => h.Order).Take(maxResults)];
    }

    /// <summary>Splits a text into chunks: paragraphs (a heading joins the next one), cut at line ends when too long.</summary>
    internal static List<string> Chunks(string text, int maxChars)
    {
        var blocks = text.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToList();
        var merged = new List<string>();
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (IsHeading(block) && i + 1 < blocks.Count && !blocks[i + 1].StartsWith('#'))
            {
                block += "\n" + blocks[++i];
            }

            merged.Add(block);
        }

        var chunks = new List<string>();
        foreach (var block in merged)
        {
            if (block.Length <= maxChars)
            {
                chunks.Add(block);
                continue;
            }

            var current = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (current.Length > 0 && current.Length + line.Length + 1 > maxChars)
                {
                    chunks.Add(current.ToString());
                    current.Clear();
                }

                current.Append(current.Length > 0 ? "\n" : string.Empty).Append(line.Length > maxChars ? line[..maxChars] : line);
            }

            if (current.Length > 0)
            {
                chunks.Add(current.ToString());
            }
        }

        return chunks;
    }

    internal static HashSet<string> Terms(string text) =>
        Words(text).Where(w => w.Length >= 3 && !StopWords.Contains(w)).ToHashSet(StringComparer.Ordinal);

    private static bool IsHeading(string block) => block.StartsWith('#') && !block.Contains('\n', StringComparison.Ordinal);

    private static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else if (word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }

    private static bool Matches(string term, HashSet<string> words) =>
        words.Contains(term) || words.Any(w => Math.Min(w.Length, term.Length) >= 4 && (w.StartsWith(term, StringComparison.Ordinal) || term.StartsWith(w, StringComparison.Ordinal)));

    private static void Score(FileRecord file, JsonObject chunking, JsonObject attributes, HashSet<string> terms, List<SearchHit> hits, ref int order)
    {
        if (!TextExtensions.Contains(Path.GetExtension(file.FileName)))
        {
            return;
        }

        var maxTokens = chunking["static"]?["max_chunk_size_tokens"] is JsonValue v && v.TryGetValue(out int tokens) ? tokens : 800;
        var text = Encoding.UTF8.GetString(file.Content);
        foreach (var chunk in Chunks(text, maxTokens * 4))
        {
            var all = Words(chunk).ToList();
            var words = all.ToHashSet(StringComparer.Ordinal);
            var matched = terms.Count(t => Matches(t, words));
            if (matched > 0)
            {
                var occurrences = all.Count(w => terms.Any(t => Matches(t, [w])));
                hits.Add(new SearchHit(file.Id, file.FileName, Math.Round((double)matched / terms.Count, 4), chunk, (JsonObject)attributes.DeepClone(), order, occurrences));
            }

            order++;
        }
    }

    private RunErrorRecord? OutcomeOf(FileRecord file)
    {
        if (_script.FileFailure(file.FileName) is { } scripted)
        {
            return new RunErrorRecord { Code = scripted.Code, Message = scripted.Message };
        }

        if (!FileLimits.FileSearchExtensions.Contains(Path.GetExtension(file.FileName)))
        {
            return new RunErrorRecord { Code = "unsupported_file", Message = Invariant($"The file type {Path.GetExtension(file.FileName)} is not supported for retrieval.") };
        }

        return file.Content.Length == 0
            ? new RunErrorRecord { Code = "invalid_file", Message = "The file is empty." }
            : null;
    }

    private static JsonObject Counts(IEnumerable<VectorStoreFileRecord> files)
    {
        int inProgress = 0, completed = 0, failed = 0, cancelled = 0, total = 0;
        foreach (var file in files)
        {
            total++;
            switch (file.Status)
            {
                case "completed": completed++; break;
                case "failed": failed++; break;
                case "cancelled": cancelled++; break;
                default: inProgress++; break;
            }
        }

        return new JsonObject { ["in_progress"] = inProgress, ["completed"] = completed, ["failed"] = failed, ["cancelled"] = cancelled, ["total"] = total };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One retrieval result: the chunk of a file that matched, and its score.</summary>
internal sealed record SearchHit(string FileId, string FileName, double Score, string Text, JsonObject Attributes, int Order, int Occurrences);
