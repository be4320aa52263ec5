using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

internal sealed partial class RunEngine
{
    private const int InputChunk = 24;

    /// <summary>
    /// Runs one scripted built-in step as a completed <c>tool_calls</c> step: a file search over the run's vector stores
    /// and attached files, or a code interpreter call with its logs, image and generated files. The run stays
    /// <c>in_progress</c> for another model step.
    /// </summary>
    private void RunBuiltInStep(ThreadRecord thread, RunRecord run, BuiltInStep builtIn, DateTimeOffset at)
    {
        var tool = builtIn.FileSearch ? "file_search" : "code_interpreter";
        if (run.Tools.FirstOrDefault(t => (string?)t?["type"] == tool) is not JsonObject definition)
        {
            FailRun(run, "server_error", $"The emulator script runs {tool}, but run {run.Id} has no {tool} tool (enable it on the assistant or the run).", at);
            return;
        }

        var ordinal = run.Steps.Count;
        var prompt = PromptTokens(thread, run);
        var step = NewStep(run, "tool_calls", StepStart(run, at));
        var call = new ToolCallRecord { Id = _store.NewId("call_"), Type = tool, StepId = step.Id };
        int completionChars;
        if (builtIn.FileSearch)
        {
            var query = builtIn.Query ?? CreateContext(thread, run).LatestUserMessage;
            var options = definition["file_search"] as JsonObject;
            var max = builtIn.MaxResults ?? (options?["max_num_results"] is JsonValue m && m.TryGetValue(out int configured) ? configured : 20);
            var threshold = options?["ranking_options"]?["score_threshold"] is JsonValue t && t.TryGetValue(out double value) ? value : 0.0;
            var ranker = options?["ranking_options"]?["ranker"] is JsonValue r && r.TryGetValue(out string? name) ? name : "default_2024_08_21";
            var hits = _files.Search(VectorStoreIds(thread, run), AttachedFileIds(thread), query, max, threshold);
            var results = new JsonArray();
            foreach (var hit in hits)
            {
                results.Add(new JsonObject
                {
                    ["file_id"] = hit.FileId,
                    ["file_name"] = hit.FileName,
                    ["score"] = hit.Score,
                    ["attributes"] = hit.Attributes,
                    ["content"] = new JsonArray { new JsonObject { ["type"] = "text", ["text"] = hit.Text } },
                });
            }

            for (var i = 0; i < Math.Min(builtIn.Citations, hits.Count); i++)
            {
                run.ReplyAnnotations.Add(new ReplyAnnotationRecord { Kind = "file_citation", Text = $"【{ordinal}:{i}†{hits[i].FileName}】", FileId = hits[i].FileId });
            }

            call.Details = new JsonObject
            {
                ["ranking_options"] = new JsonObject { ["ranker"] = ranker, ["score_threshold"] = threshold },
                ["results"] = results,
            };
            completionChars = query.Length;
        }
        else
        {
            var outputs = new JsonArray();
            if (builtIn.Logs is { } logs)
            {
                outputs.Add(new JsonObject { ["type"] = "logs", ["logs"] = logs });
            }

            if (builtIn.ImagePng is { } png)
            {
                var image = FilesApi.Add(_store, "chart.png", "assistants_output", png);
                outputs.Add(new JsonObject { ["type"] = "image", ["image"] = new JsonObject { ["file_id"] = image.Id } });
                run.OutputImageIds.Add(image.Id);
            }

            foreach (var (fileName, content) in builtIn.Files)
            {
                var file = FilesApi.Add(_store, "/mnt/data/" + fileName, "assistants_output", content);
                run.ReplyAnnotations.Add(new ReplyAnnotationRecord { Kind = "file_path", Text = "sandbox:/mnt/data/" + fileName, FileId = file.Id, FileName = fileName });
            }

            call.Details = new JsonObject { ["input"] = builtIn.Input, ["outputs"] = outputs };
            completionChars = builtIn.Input.Length;
        }

        step.Usage = new UsageRecord { PromptTokens = prompt, CompletionTokens = Tokens(completionChars) };
        run.Accumulated.Add(step.Usage);
        Emit(run, "thread.run.step.created", Render.Step(run, step, stream: true));
        Emit(run, "thread.run.step.in_progress", Render.Step(run, step, stream: true));
        run.ToolCalls.Add(call);
        step.ToolCallIds.Add(call.Id);
        EmitBuiltInDeltas(run, step, call);
        step.Status = "completed";
        step.CompletedAt = EmulatorStore.Seconds(at);
        Emit(run, "thread.run.step.completed", Render.Step(run, step, stream: true));
        run.PhaseEndsAt = at + run.StepDuration;
        _store.Touch();
    }

    /// <summary>The step deltas of a built-in call, shaped as recorded: the call opens empty, then code input in pieces, then outputs.</summary>
    private static void EmitBuiltInDeltas(RunRecord run, StepRecord step, ToolCallRecord call)
    {
        if (call.Type == "file_search")
        {
            EmitStepDelta(run, step, new JsonObject
            {
                ["index"] = 0,
                ["id"] = call.Id,
                ["type"] = "file_search",
                ["file_search"] = new JsonObject { ["ranking_options"] = call.Details!["ranking_options"]!.DeepClone(), ["results"] = new JsonArray() },
            });
            return;
        }

        EmitStepDelta(run, step, new JsonObject
        {
            ["index"] = 0,
            ["id"] = call.Id,
            ["type"] = "code_interpreter",
            ["code_interpreter"] = new JsonObject { ["input"] = "", ["outputs"] = new JsonArray() },
        });
        var input = (string)call.Details!["input"]!;
        for (var offset = 0; offset < input.Length; offset += InputChunk)
        {
            EmitStepDelta(run, step, new JsonObject
            {
                ["index"] = 0,
                ["type"] = "code_interpreter",
                ["code_interpreter"] = new JsonObject { ["input"] = input.Substring(offset, Math.Min(InputChunk, input.Length - offset)) },
            });
        }

        var outputs = new JsonArray();
        var index = 0;
        foreach (var output in (JsonArray)call.Details["outputs"]!)
        {
            var copy = (JsonObject)output!.DeepClone();
            copy.Insert(0, "index", index++);
            outputs.Add(copy);
        }

        if (outputs.Count > 0)
        {
            EmitStepDelta(run, step, new JsonObject
            {
                ["index"] = 0,
                ["type"] = "code_interpreter",
                ["code_interpreter"] = new JsonObject { ["outputs"] = outputs },
            });
        }
    }

    /// <summary>The vector stores file search reads: the assistant's, the thread's and the run's tool resources.</summary>
    private List<string> VectorStoreIds(ThreadRecord thread, RunRecord run)
    {
        var ids = new List<string>();
        void Add(JsonObject? resources)
        {
            foreach (var id in resources?["file_search"]?["vector_store_ids"] as JsonArray ?? [])
            {
                if (id is JsonValue v && v.TryGetValue(out string? s) && !ids.Contains(s))
                {
                    ids.Add(s);
                }
            }
        }

        Add(_store.Data.Assistants.TryGetValue(run.AssistantId, out var assistant) ? assistant.ToolResources : null);
        Add(thread.ToolResources);
        Add(run.ToolResources);
        return ids;
    }

    /// <summary>The files attached to the thread's messages for file search (searched directly, as the thread's own store).</summary>
    private static IEnumerable<string> AttachedFileIds(ThreadRecord thread) =>
        thread.Messages
            .SelectMany(m => m.Attachments.OfType<JsonObject>())
            .Where(a => (a["tools"] as JsonArray ?? []).Any(t => (string?)t?["type"] == "file_search"))
            .Select(a => (string?)a["file_id"])
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
}

/// <summary>Reading built-in steps back: the context's search results, the reply's annotations, the rendered details.</summary>
internal static class BuiltInSteps
{
    public static IReadOnlyList<EmulatorFileSearchResult> SearchResults(RunRecord run) =>
        [.. run.ToolCalls
            .Where(c => c.Type == "file_search" && c.Details is not null)
            .SelectMany(c => c.Details!["results"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(r => new EmulatorFileSearchResult(
                (string)r["file_id"]!,
                (string)r["file_name"]!,
                (double)r["score"]!,
                (string?)r["content"]?[0]?["text"] ?? string.Empty))];

    /// <summary>
    /// Adds the built-in steps' annotations to the reply: citation markers before its final period, then links to
    /// generated files at its end; their positions go to <paramref name="annotations"/>.
    /// </summary>
    public static string Annotate(
        string text, List<ReplyAnnotationRecord> added, List<(string Text, string FileId, EmulatorAnnotationKind Kind, int Start)> annotations)
    {
        var citations = added.Where(a => a.Kind == "file_citation").ToList();
        if (citations.Count > 0)
        {
            var at = text.EndsWith('.') ? text.Length - 1 : text.Length;
            var markers = string.Concat(citations.Select(c => c.Text));
            var offset = at;
            foreach (var citation in citations)
            {
                annotations.Add((citation.Text, citation.FileId, EmulatorAnnotationKind.FileCitation, offset));
                offset += citation.Text.Length;
            }

            text = text[..at] + markers + text[at..];
        }

        foreach (var link in added.Where(a => a.Kind == "file_path"))
        {
            var prefix = $" [{link.FileName}](";
            annotations.Add((link.Text, link.FileId, EmulatorAnnotationKind.FilePath, text.Length + prefix.Length));
            text += prefix + link.Text + ")";
        }

        return text;
    }

    /// <summary>A built-in call as a run step shows it; file search results lose their text unless it was asked for.</summary>
    public static JsonObject Render(ToolCallRecord call, bool includeContent)
    {
        var details = (JsonObject)(call.Details?.DeepClone() ?? new JsonObject());
        if (!includeContent && details["results"] is JsonArray results)
        {
            foreach (var result in results.OfType<JsonObject>())
            {
                result.Remove("content");
            }
        }

        return new JsonObject { ["id"] = call.Id, ["type"] = call.Type, [call.Type] = details };
    }
}
