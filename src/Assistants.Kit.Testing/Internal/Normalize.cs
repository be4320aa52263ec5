using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Assistants.Kit.Testing.Internal;

/// <summary>Validates request parts and turns them into the normalised shape the real service echoes back.</summary>
internal static partial class Normalize
{
    private static readonly string[] ToolTypes = ["code_interpreter", "file_search", "function"];

    public static JsonArray Tools(JsonBody body, string name, int maxItems)
    {
        var result = new JsonArray();
        foreach (var tool in body.Objects(name, maxItems))
        {
            var type = tool.Enum("type", ToolTypes) ?? throw ApiException.MissingParameter(tool.PathOf("type"));
            switch (type)
            {
                case "code_interpreter":
                    tool.AllowOnly("type");
                    result.Add(new JsonObject { ["type"] = "code_interpreter" });
                    break;

                case "file_search":
                    {
                        tool.AllowOnly("type", "file_search");
                        var options = tool.Object("file_search");
                        options?.AllowOnly("max_num_results", "ranking_options");
                        var maxResults = options?.Integer("max_num_results", 1, 50);
                        var ranking = options?.Object("ranking_options");
                        ranking?.AllowOnly("ranker", "score_threshold");
                        var ranker = ranking?.Enum("ranker", "auto", "default_2024_08_21");
                        var threshold = ranking?.Number("score_threshold", 0, 1);
                        var fileSearch = new JsonObject();
                        if (maxResults is not null)
                        {
                            fileSearch["max_num_results"] = maxResults;
                        }

                        fileSearch["ranking_options"] = new JsonObject
                        {
                            ["ranker"] = ranker ?? "default_2024_08_21",
                            ["score_threshold"] = threshold ?? 0.0,
                            ["hybrid_search"] = null,
                        };
                        result.Add(new JsonObject { ["type"] = "file_search", ["file_search"] = fileSearch });
                        break;
                    }

                default:
                    {
                        tool.AllowOnly("type", "function");
                        var function = tool.Object("function") ?? throw ApiException.MissingParameter(tool.PathOf("function"));
                        function.AllowOnly("name", "description", "parameters", "strict");
                        var functionName = function.RequiredString("name", 64);
                        if (!FunctionName().IsMatch(functionName))
                        {
                            throw ApiException.BadRequest(
                                string.Create(CultureInfo.InvariantCulture, $"Invalid '{function.PathOf("name")}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
                                function.PathOf("name"),
                                "invalid_value");
                        }

                        var output = new JsonObject { ["name"] = functionName };
                        if (function.String("description") is { } description)
                        {
                            output["description"] = description;
                        }

                        // Without parameters the real service stores an empty object schema.
                        output["parameters"] = function.Object("parameters") is { } parameters
                            ? parameters.Node.DeepClone()
                            : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };

                        output["strict"] = function.Boolean("strict") ?? false;
                        result.Add(new JsonObject { ["type"] = "function", ["function"] = output });
                        break;
                    }
            }
        }

        return result;
    }

    /// <summary>
    /// Normalises <c>tool_resources</c>: <c>code_interpreter.file_ids</c> is echoed; <c>file_search.vector_stores</c>
    /// (inline creation) becomes <c>vector_store_ids</c> with a new store per entry, as the real service does.
    /// </summary>
    public static JsonObject ToolResources(JsonBody? resources, EmulatorStore store, VectorStoreEngine? files = null)
    {
        var result = new JsonObject();
        if (resources is null)
        {
            return result;
        }

        resources.AllowOnly("code_interpreter", "file_search");
        if (resources.Object("code_interpreter") is { } code)
        {
            code.AllowOnly("file_ids");
            result["code_interpreter"] = new JsonObject { ["file_ids"] = StringArray(code, "file_ids", 20) };
        }

        if (resources.Object("file_search") is { } search)
        {
            search.AllowOnly("vector_store_ids", "vector_stores");
            var ids = StringArray(search, "vector_store_ids", 1);
            foreach (var vectorStore in search.Objects("vector_stores", 1))
            {
                vectorStore.AllowOnly("file_ids", "chunking_strategy", "metadata");
                var fileIds = StringArray(vectorStore, "file_ids", 10000);
                var chunking = VectorStoreEngine.Chunking(vectorStore.Object("chunking_strategy"));
                var metadata = vectorStore.Metadata();
                if (files is null)
                {
                    ids.Add(store.NewVectorStoreId());
                    continue;
                }

                // A real store with the files the emulator knows (files uploaded elsewhere, as in replayed recordings, are left out).
                var created = files.Create(null, null, metadata, null);
                foreach (var fileId in fileIds.Select(f => (string)f!).Where(store.Data.Files.ContainsKey))
                {
                    files.AddFile(created, fileId, [], (JsonObject)chunking.DeepClone(), null);
                }

                ids.Add(created.Id);
            }

            result["file_search"] = new JsonObject { ["vector_store_ids"] = ids };
        }

        return result;
    }

    /// <summary>An assistant with the code_interpreter tool always shows <c>code_interpreter.file_ids</c> (recorded).</summary>
    public static void AddToolDefaults(JsonArray tools, JsonObject resources)
    {
        if (tools.Any(t => (string?)t?["type"] == "code_interpreter") && !resources.ContainsKey("code_interpreter"))
        {
            resources["code_interpreter"] = new JsonObject { ["file_ids"] = new JsonArray() };
        }
    }

    public static JsonArray StringArray(JsonBody body, string name, int maxItems)
    {
        var result = new JsonArray();
        var array = body.Array(name, maxItems);
        if (array is null)
        {
            return result;
        }

        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue(out string? s))
            {
                throw ApiException.InvalidType(string.Create(CultureInfo.InvariantCulture, $"{body.PathOf(name)}[{i}]"), "a string", array[i]);
            }

            result.Add(s);
        }

        return result;
    }

    public static JsonNode ResponseFormat(JsonBody body, string name)
    {
        var raw = body.Raw(name);
        if (raw is JsonValue v && v.TryGetValue(out string? s))
        {
            return s == "auto" ? JsonValue.Create("auto") : throw ApiException.InvalidValue(body.PathOf(name), s, ["auto"]);
        }

        var format = body.Object(name)!;
        var type = format.Enum("type", "text", "json_object", "json_schema") ?? throw ApiException.MissingParameter(format.PathOf("type"));
        if (type == "json_schema")
        {
            format.AllowOnly("type", "json_schema");
            var schema = format.Object("json_schema") ?? throw ApiException.MissingParameter(format.PathOf("json_schema"));
            schema.RequiredString("name", 64);
        }
        else
        {
            format.AllowOnly("type");
        }

        return format.Node.DeepClone();
    }

    public static JsonNode ToolChoice(JsonBody body, string name)
    {
        var raw = body.Raw(name);
        if (raw is JsonValue v && v.TryGetValue(out string? s))
        {
            return s is "none" or "auto" or "required"
                ? JsonValue.Create(s)
                : throw ApiException.InvalidValue(body.PathOf(name), s, ["none", "auto", "required"]);
        }

        var choice = body.Object(name)!;
        choice.AllowOnly("type", "function");
        var type = choice.Enum("type", "function", "code_interpreter", "file_search") ?? throw ApiException.MissingParameter(choice.PathOf("type"));
        if (type == "function")
        {
            var function = choice.Object("function") ?? throw ApiException.MissingParameter(choice.PathOf("function"));
            function.AllowOnly("name");
            function.RequiredString("name");
        }

        return choice.Node.DeepClone();
    }

    /// <summary>A message of a create-message request (or of a thread's initial / a run's additional messages).</summary>
    public static (string Role, JsonArray Content, JsonArray Attachments, Dictionary<string, string> Metadata) Message(JsonBody message)
    {
        message.AllowOnly("role", "content", "attachments", "metadata");
        var role = message.Enum("role", "user", "assistant") ?? throw ApiException.MissingParameter(message.PathOf("role"));
        var rawContent = message.Raw("content") ?? throw ApiException.MissingParameter(message.PathOf("content"));
        var content = new JsonArray();
        if (rawContent is JsonValue v && v.TryGetValue(out string? text))
        {
            content.Add(TextPart(text));
        }
        else if (rawContent is JsonArray)
        {
            var parts = message.Objects("content");
            if (parts.Count == 0)
            {
                throw ApiException.BadRequest(
                    $"Invalid '{message.PathOf("content")}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                    message.PathOf("content"),
                    "empty_array");
            }

            foreach (var part in parts)
            {
                var type = part.Enum("type", "text", "image_url", "image_file") ?? throw ApiException.MissingParameter(part.PathOf("type"));
                switch (type)
                {
                    case "text":
                        part.AllowOnly("type", "text");
                        content.Add(TextPart(part.RequiredString("text")));
                        break;
                    case "image_url":
                        {
                            part.AllowOnly("type", "image_url");
                            var image = part.Object("image_url") ?? throw ApiException.MissingParameter(part.PathOf("image_url"));
                            image.AllowOnly("url", "detail");
                            content.Add(new JsonObject
                            {
                                ["type"] = "image_url",
                                ["image_url"] = new JsonObject
                                {
                                    ["url"] = image.RequiredString("url"),
                                    ["detail"] = image.Enum("detail", "auto", "low", "high") ?? "auto",
                                },
                            });
                            break;
                        }

                    default:
                        {
                            part.AllowOnly("type", "image_file");
                            var image = part.Object("image_file") ?? throw ApiException.MissingParameter(part.PathOf("image_file"));
                            image.AllowOnly("file_id", "detail");
                            content.Add(new JsonObject
                            {
                                ["type"] = "image_file",
                                ["image_file"] = new JsonObject
                                {
                                    ["file_id"] = image.RequiredString("file_id"),
                                    ["detail"] = image.Enum("detail", "auto", "low", "high") ?? "auto",
                                },
                            });
                            break;
                        }
                }
            }
        }
        else
        {
            throw ApiException.InvalidType(message.PathOf("content"), "a string", rawContent);
        }

        var attachments = new JsonArray();
        foreach (var attachment in message.Objects("attachments"))
        {
            attachment.AllowOnly("file_id", "tools");
            var tools = new JsonArray();
            foreach (var tool in attachment.Objects("tools"))
            {
                tool.AllowOnly("type");
                tools.Add(new JsonObject
                {
                    ["type"] = tool.Enum("type", "code_interpreter", "file_search") ?? throw ApiException.MissingParameter(tool.PathOf("type")),
                });
            }

            attachments.Add(new JsonObject { ["file_id"] = attachment.RequiredString("file_id"), ["tools"] = tools });
        }

        return (role, content, attachments, message.Metadata() ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    public static JsonObject TextPart(string text) => new()
    {
        ["type"] = "text",
        ["text"] = new JsonObject { ["value"] = text, ["annotations"] = new JsonArray() },
    };

    [GeneratedRegex("^[a-zA-Z0-9_-]+$")]
    private static partial Regex FunctionName();
}
