using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Validates the items, tools and tool choice of Responses and Conversations requests and turns them into the stored form
/// the service shows back (input_items, conversation items): every item gets an <c>id</c> and a <c>status</c>; a message
/// with string content becomes one <c>input_text</c> part (<c>output_text</c> for the assistant); a
/// <c>function_call_output</c> gets an <c>fc_</c> ID, as recorded.
/// </summary>
internal static class ResponseItems
{
    /// <summary>Hex digits of the IDs of items a response created or received (<c>msg_</c>, <c>fc_</c>, ... as recorded).</summary>
    public const int IdDigits = 50;

    /// <summary>Hex digits of the IDs of items added through the Conversations endpoints (as recorded: 48, like <c>conv_</c>).</summary>
    public const int ConversationIdDigits = 48;

    private static readonly string[] Roles = ["user", "assistant", "system", "developer"];

    /// <summary>Reads <c>input</c>: a string (one user message) or an array of items.</summary>
    public static List<JsonObject> Input(JsonBody body, EmulatorStore store)
    {
        var raw = body.Raw("input");
        if (raw is null)
        {
            return [];
        }

        if (raw is JsonValue v && v.TryGetValue(out string? text))
        {
            return [StoredMessage(store, "user", [new JsonObject { ["type"] = "input_text", ["text"] = text }], null)];
        }

        if (raw is not JsonArray)
        {
            throw ApiException.InvalidType(body.PathOf("input"), "a string", raw);
        }

        return body.Objects("input").Select(item => Item(item, store)).ToList();
    }

    /// <summary>Reads the <c>items</c> of a conversation request (at most 20 per request, like the service).</summary>
    public static List<JsonObject> ConversationItems(JsonBody body, EmulatorStore store) =>
        body.Objects("items", 20).Select(item => Item(item, store, ConversationIdDigits)).ToList();

    /// <summary>Validates one input item and returns its stored form.</summary>
    public static JsonObject Item(JsonBody item, EmulatorStore store, int digits = IdDigits)
    {
        var type = item.String("type") ?? (item.Has("role") || item.Has("content") ? "message" : throw ApiException.MissingParameter(item.PathOf("type")));
        switch (type)
        {
            case "message":
                {
                    item.AllowOnly("type", "role", "content", "id", "status", "phase");
                    var role = item.Enum("role", Roles) ?? throw ApiException.MissingParameter(item.PathOf("role"));
                    var content = MessageContent(item, role);
                    return StoredMessage(store, role, content, item.String("id") ?? store.NewHexId("msg_", digits));
                }

            case "function_call":
                {
                    item.AllowOnly("type", "id", "call_id", "name", "arguments", "status", "namespace");
                    var callId = item.RequiredString("call_id", 64);
                    var name = item.RequiredString("name");
                    var arguments = item.RequiredString("arguments");
                    return new JsonObject
                    {
                        ["id"] = item.String("id") ?? store.NewHexId("fc_", digits),
                        ["type"] = "function_call",
                        ["status"] = "completed",
                        ["arguments"] = arguments,
                        ["call_id"] = callId,
                        ["name"] = name,
                    };
                }

            case "function_call_output":
                {
                    item.AllowOnly("type", "id", "call_id", "output", "status");
                    var callId = item.RequiredString("call_id", 64);
                    var output = item.Raw("output") ?? throw ApiException.MissingParameter(item.PathOf("output"));
                    if (output is not JsonArray && !(output is JsonValue ov && ov.GetValueKind() == JsonValueKind.String))
                    {
                        throw ApiException.InvalidType(item.PathOf("output"), "a string", output);
                    }

                    return new JsonObject
                    {
                        ["id"] = store.NewHexId("fc_", digits),
                        ["type"] = "function_call_output",
                        ["status"] = "completed",
                        ["call_id"] = callId,
                        ["output"] = output.DeepClone(),
                    };
                }

            default:
                {
                    // Other item types (reasoning, item_reference, MCP, web search, ...) are kept as given: they are echoed in
                    // input_items and conversations but never produced or executed by the emulator.
                    var copy = (JsonObject)item.Node.DeepClone();
                    if (!copy.ContainsKey("id") && type != "item_reference")
                    {
                        copy.Insert(0, "id", store.NewHexId(Prefix(type), digits));
                    }

                    return copy;
                }
        }
    }

    public static JsonObject StoredMessage(EmulatorStore store, string role, JsonArray content, string? id) => new()
    {
        ["id"] = id ?? store.NewHexId("msg_", IdDigits),
        ["type"] = "message",
        ["status"] = "completed",
        ["content"] = content,
        ["role"] = role,
    };

    public static JsonObject OutputText(string text, JsonArray? annotations = null) => new()
    {
        ["type"] = "output_text",
        ["annotations"] = annotations ?? [],
        ["logprobs"] = new JsonArray(),
        ["text"] = text,
    };

    /// <summary>The item's type.</summary>
    public static string TypeOf(JsonObject item) => item["type"] is JsonValue v && v.TryGetValue(out string? s) ? s : "";

    public static string? StringOf(JsonObject item, string name) => item[name] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    public static bool IsUserMessage(JsonObject item) => TypeOf(item) == "message" && StringOf(item, "role") == "user";

    /// <summary>The text of a message item (its text and refusal parts) or of a function call output.</summary>
    public static string TextOf(JsonObject item)
    {
        switch (TypeOf(item))
        {
            case "message":
                return PartsText(item["content"]);
            case "function_call_output":
                return item["output"] is JsonValue v && v.TryGetValue(out string? s) ? s : PartsText(item["output"]);
            default:
                return "";
        }
    }

    /// <summary>Characters counted for usage: message texts and function call outputs (arguments are not, as on the Assistants side).</summary>
    public static int PromptChars(JsonObject item) => TextOf(item).Length;

    /// <summary>Validates <c>tools</c> and returns the echoed form (function tools normalised, other tools as given).</summary>
    public static JsonArray Tools(JsonBody body)
    {
        var result = new JsonArray();
        foreach (var tool in body.Objects("tools", 128))
        {
            var type = tool.RequiredString("type");
            if (type != "function")
            {
                result.Add(tool.Node.DeepClone());
                continue;
            }

            tool.AllowOnly("type", "name", "description", "parameters", "strict", "defer_loading", "allowed_callers", "output_schema");
            var name = tool.RequiredString("name", 128);
            var parameters = tool.Object("parameters");
            var strict = tool.Boolean("strict");

            // An empty (or missing) schema is stored as an empty object schema, as recorded.
            var schema = parameters is null || parameters.Node.Count == 0
                ? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() }
                : (JsonObject)parameters.Node.DeepClone();
            if (strict is null && schema["properties"] is JsonObject properties)
            {
                // Strict by default: the service makes the schema strict (every property required, no others), as recorded.
                schema["required"] = new JsonArray([.. properties.Select(p => (JsonNode?)JsonValue.Create(p.Key))]);
                schema["additionalProperties"] = false;
            }

            result.Add(new JsonObject
            {
                ["type"] = "function",
                ["description"] = tool.String("description"),
                ["name"] = name,
                ["parameters"] = schema,
                ["strict"] = strict ?? true,
            });
        }

        return result;
    }

    public static JsonNode ToolChoice(JsonBody body)
    {
        var raw = body.Raw("tool_choice");
        if (raw is JsonValue v && v.TryGetValue(out string? s))
        {
            return s is "none" or "auto" or "required"
                ? JsonValue.Create(s)
                : throw ApiException.InvalidValue(body.PathOf("tool_choice"), s, ["none", "auto", "required"]);
        }

        var choice = body.Object("tool_choice")!;
        var type = choice.RequiredString("type");
        if (type == "function")
        {
            choice.AllowOnly("type", "name");
            choice.RequiredString("name");
        }

        return choice.Node.DeepClone();
    }

    /// <summary>The function names of a response's tools.</summary>
    public static List<string> FunctionNames(JsonArray tools) =>
        tools.OfType<JsonObject>().Where(t => TypeOf(t) == "function").Select(t => StringOf(t, "name") ?? "").ToList();

    private static JsonArray MessageContent(JsonBody item, string role)
    {
        var raw = item.Raw("content") ?? throw ApiException.MissingParameter(item.PathOf("content"));
        if (raw is JsonValue v && v.TryGetValue(out string? text))
        {
            return [role == "assistant" ? OutputText(text) : new JsonObject { ["type"] = "input_text", ["text"] = text }];
        }

        if (raw is not JsonArray)
        {
            throw ApiException.InvalidType(item.PathOf("content"), "a string", raw);
        }

        var content = new JsonArray();
        foreach (var part in item.Objects("content"))
        {
            var type = part.Enum("type", "input_text", "output_text", "refusal", "input_image", "input_file", "input_audio")
                ?? throw ApiException.MissingParameter(part.PathOf("type"));
            switch (type)
            {
                case "input_text":
                    part.AllowOnly("type", "text");
                    content.Add(new JsonObject { ["type"] = "input_text", ["text"] = part.RequiredString("text") });
                    break;
                case "output_text":
                    part.AllowOnly("type", "text", "annotations", "logprobs");
                    content.Add(new JsonObject
                    {
                        ["type"] = "output_text",
                        ["annotations"] = part.Array("annotations")?.DeepClone() ?? new JsonArray(),
                        ["logprobs"] = part.Array("logprobs")?.DeepClone() ?? new JsonArray(),
                        ["text"] = part.RequiredString("text"),
                    });
                    break;
                case "refusal":
                    part.AllowOnly("type", "refusal");
                    content.Add(new JsonObject { ["type"] = "refusal", ["refusal"] = part.RequiredString("refusal") });
                    break;
                case "input_image":
                    part.AllowOnly("type", "image_url", "file_id", "detail");
                    content.Add(new JsonObject
                    {
                        ["type"] = "input_image",
                        ["detail"] = part.Enum("detail", "auto", "low", "high", "original") ?? "auto",
                        ["file_id"] = part.String("file_id"),
                        ["image_url"] = part.String("image_url"),
                    });
                    break;
                default:
                    content.Add(part.Node.DeepClone());
                    break;
            }
        }

        return content;
    }

    private static string PartsText(JsonNode? content)
    {
        if (content is not JsonArray parts)
        {
            return content is JsonValue v && v.TryGetValue(out string? s) ? s : "";
        }

        var text = new StringBuilder();
        foreach (var part in parts.OfType<JsonObject>())
        {
            if ((StringOf(part, "text") ?? StringOf(part, "refusal")) is { } piece)
            {
                text.Append(piece);
            }
        }

        return text.ToString();
    }

    private static string Prefix(string type) => type switch
    {
        "reasoning" => "rs_",
        "web_search_call" => "ws_",
        "file_search_call" => "fs_",
        "mcp_call" => "mcp_",
        "mcp_list_tools" => "mcpl_",
        "mcp_approval_request" => "mcpr_",
        _ => string.Create(CultureInfo.InvariantCulture, $"{type.Split('_')[0]}_"),
    };
}
