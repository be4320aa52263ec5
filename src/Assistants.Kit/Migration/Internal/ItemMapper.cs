using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Migration.Internal;

/// <summary>A source message and the conversation item it becomes (<see langword="null"/> when nothing is representable).</summary>
internal sealed record MappedMessage(string Id, string Role, string? RunId, string? Status, JsonObject? Item, IReadOnlyList<NotCarriedContent> NotCarried);

/// <summary>
/// Turns Assistants v2 messages into Responses conversation items: one <c>message</c> item per message, with the role
/// kept; user content becomes <c>input_text</c> / <c>input_image</c> parts, assistant content <c>output_text</c> /
/// <c>refusal</c> parts. Everything else is reported as <see cref="NotCarriedContent"/>.
/// </summary>
internal static class ItemMapper
{
    public static MappedMessage Map(JsonObject message, IDictionary<string, string> fileIdMap)
    {
        var id = String(message, "id") ?? throw new InvalidOperationException("A source message has no ID.");
        var role = String(message, "role") == "assistant" ? "assistant" : "user";
        var runId = String(message, "run_id");
        var notCarried = new List<NotCarriedContent>();
        var content = new JsonArray();
        foreach (var part in (message["content"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var type = String(part, "type");
            switch (type)
            {
                case "text":
                    var text = part["text"] as JsonObject;
                    var value = text is null ? null : String(text, "value");
                    if (!string.IsNullOrEmpty(value))
                    {
                        content.Add(role == "assistant"
                            ? new JsonObject { ["type"] = "output_text", ["text"] = value, ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray() }
                            : new JsonObject { ["type"] = "input_text", ["text"] = value });
                    }

                    foreach (var annotation in (text?["annotations"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        notCarried.Add(new NotCarriedContent(NotCarriedKind.Annotation, id, runId, DescribeAnnotation(annotation, fileIdMap)));
                    }

                    break;

                case "refusal" when role == "assistant" && String(part, "refusal") is { Length: > 0 } refusal:
                    content.Add(new JsonObject { ["type"] = "refusal", ["refusal"] = refusal });
                    break;

                case "image_file":
                    var file = part["image_file"] as JsonObject;
                    var fileId = file is null ? null : String(file, "file_id");
                    if (role == "user" && fileId is not null && fileIdMap.TryGetValue(fileId, out var targetFileId))
                    {
                        content.Add(new JsonObject { ["type"] = "input_image", ["file_id"] = targetFileId, ["detail"] = Detail(file) });
                    }
                    else
                    {
                        notCarried.Add(new NotCarriedContent(NotCarriedKind.ImageFile, id, runId, role == "user"
                            ? $"image file {fileId} exists only on the source (not in the file ID map)"
                            : $"image file {fileId} in an assistant message (Responses output messages hold text only)"));
                    }

                    break;

                case "image_url":
                    var image = part["image_url"] as JsonObject;
                    var url = image is null ? null : String(image, "url");
                    if (role == "user" && !string.IsNullOrEmpty(url))
                    {
                        content.Add(new JsonObject { ["type"] = "input_image", ["image_url"] = url, ["detail"] = Detail(image) });
                    }
                    else
                    {
                        notCarried.Add(new NotCarriedContent(NotCarriedKind.ImageUrl, id, runId, "image URL in an assistant message (Responses output messages hold text only)"));
                    }

                    break;

                default:
                    notCarried.Add(new NotCarriedContent(NotCarriedKind.UnknownContent, id, runId, $"content part of type '{type}'"));
                    break;
            }
        }

        foreach (var attachment in (message["attachments"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var tools = string.Join(", ", (attachment["tools"] as JsonArray ?? []).OfType<JsonObject>().Select(t => String(t, "type")));
            notCarried.Add(new NotCarriedContent(
                NotCarriedKind.Attachment,
                id,
                runId,
                $"file {String(attachment, "file_id")} attached for {(tools.Length == 0 ? "no tool" : tools)} (give the responses a file_search tool with a vector store, or a code interpreter container, instead)"));
        }

        foreach (var (key, _) in message["metadata"] as JsonObject ?? [])
        {
            // kit_* entries are the kit's own bookkeeping (e.g. the operation ID on every message it created).
            if (!key.StartsWith("kit_", StringComparison.Ordinal))
            {
                notCarried.Add(new NotCarriedContent(NotCarriedKind.MessageMetadata, id, runId, $"message metadata entry '{key}' (conversation items have no metadata)"));
            }
        }

        JsonObject? item = null;
        if (content.Count > 0)
        {
            item = new JsonObject { ["type"] = "message", ["role"] = role, ["content"] = content };
        }
        else
        {
            notCarried.Add(new NotCarriedContent(NotCarriedKind.EmptyMessage, id, runId, $"{role} message with no content that can be carried"));
        }

        return new MappedMessage(id, role, runId, String(message, "status"), item, notCarried);
    }

    /// <summary>The tool calls of a run's steps, none of which is carried.</summary>
    public static IEnumerable<NotCarriedContent> RunStepToolCalls(string runId, IEnumerable<JsonObject> steps)
    {
        foreach (var step in steps)
        {
            if (step["step_details"] is not JsonObject details || String(details, "type") != "tool_calls")
            {
                continue;
            }

            foreach (var call in (details["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var callId = String(call, "id");
                switch (String(call, "type"))
                {
                    case "function":
                        var name = (call["function"] as JsonObject) is { } function ? String(function, "name") : null;
                        yield return new NotCarriedContent(NotCarriedKind.FunctionCall, null, runId, $"function call {callId} to '{name}' with its arguments and output (run step {String(step, "id")})");
                        break;
                    case "code_interpreter":
                        var outputs = ((call["code_interpreter"] as JsonObject)?["outputs"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                        yield return new NotCarriedContent(NotCarriedKind.CodeInterpreter, null, runId, $"code interpreter call {callId} with its input and {DescribeOutputs(outputs)} (run step {String(step, "id")})");
                        break;
                    case "file_search":
                        yield return new NotCarriedContent(NotCarriedKind.FileSearch, null, runId, $"file search call {callId} and its results (run step {String(step, "id")})");
                        break;
                    default:
                        yield return new NotCarriedContent(NotCarriedKind.UnknownContent, null, runId, $"tool call {callId} of type '{String(call, "type")}' (run step {String(step, "id")})");
                        break;
                }
            }
        }
    }

    /// <summary>
    /// What identifies an item for reconciliation: its type, role and content parts (type and text, refusal, file or URL).
    /// The same for the item as sent and as the server shows it back (with its ID, status and defaults).
    /// </summary>
    public static string Fingerprint(JsonObject item)
    {
        var text = new StringBuilder();
        text.Append(String(item, "type")).Append('|').Append(String(item, "role"));
        foreach (var part in (item["content"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var type = String(part, "type");
            text.Append('|').Append(type).Append(':');
            text.Append(type switch
            {
                "input_text" or "output_text" => String(part, "text"),
                "refusal" => String(part, "refusal"),
                "input_image" => String(part, "file_id") ?? String(part, "image_url"),
                _ => null,
            });
        }

        return text.ToString();
    }

    private static string DescribeAnnotation(JsonObject annotation, IDictionary<string, string> fileIdMap)
    {
        var type = String(annotation, "type") ?? "annotation";
        var fileId = (annotation[type] as JsonObject) is { } body ? String(body, "file_id") : null;
        var span = string.Create(CultureInfo.InvariantCulture, $"[{Int(annotation, "start_index")}, {Int(annotation, "end_index")})");
        return fileId is null
            ? $"{type} annotation at {span}"
            : fileIdMap.ContainsKey(fileId)
                ? $"{type} annotation at {span} to file {fileId} (the annotated text is carried; Responses annotations are not written)"
                : $"{type} annotation at {span} to file {fileId}, which exists only on the source (the annotated text is carried)";
    }

    private static string DescribeOutputs(List<JsonObject> outputs)
    {
        if (outputs.Count == 0)
        {
            return "no outputs";
        }

        var logs = outputs.Count(o => String(o, "type") == "logs");
        var images = outputs.Where(o => String(o, "type") == "image").Select(o => (o["image"] as JsonObject) is { } i ? String(i, "file_id") : null).ToList();
        var parts = new List<string>();
        if (logs > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{logs} log output{(logs == 1 ? "" : "s")}"));
        }

        if (images.Count > 0)
        {
            parts.Add($"image output{(images.Count == 1 ? "" : "s")} {string.Join(", ", images)}");
        }

        return string.Join(" and ", parts);
    }

    private static string Detail(JsonObject? image) => image is not null && String(image, "detail") is "low" or "high" ? String(image, "detail")! : "auto";

    private static string? String(JsonObject node, string name) =>
        node[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static long? Int(JsonObject node, string name) =>
        node[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;
}
