using System.Globalization;

namespace Assistants.Kit.Files.Internal;

/// <summary>
/// Completes citations: the Assistants v2 wire carries only the cited file's ID and a marker like
/// <c>【4:0†notes.md】</c>, so the quote and the file name come from the marker and from the run's file search results
/// (the official client always asks for the results' text with <c>include[]</c>).
/// </summary>
internal static class CitationResolver
{
    private const string CitationKind = "file_citation";
    private const string PathKind = "file_path";
    private const string SandboxPrefix = "sandbox:";

    /// <summary>The file name in an annotation's text: after † in a citation marker, the last segment of a sandbox path.</summary>
    public static string? FileNameOf(string kind, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (kind == CitationKind)
        {
            var dagger = text.IndexOf('†', StringComparison.Ordinal);
            if (dagger < 0)
            {
                return null;
            }

            var end = text.IndexOf('】', dagger + 1);
            var name = (end < 0 ? text[(dagger + 1)..] : text[(dagger + 1)..end]).Trim();
            return name.Length == 0 || name == "source" ? null : name;
        }

        if (kind == PathKind && text.StartsWith(SandboxPrefix, StringComparison.Ordinal))
        {
            var name = text[(text.LastIndexOf('/') + 1)..];
            return name.Length == 0 ? null : name;
        }

        return null;
    }

    /// <summary>The result index in a citation marker (<c>【4:0†notes.md】</c> → 0), when it has one.</summary>
    public static int? ResultIndexOf(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var dagger = text.IndexOf('†', StringComparison.Ordinal);
        return colon >= 0 && dagger > colon
            && int.TryParse(text.AsSpan(colon + 1, dagger - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : null;
    }

    public static IReadOnlyList<AssistantMessage> Resolve(IReadOnlyList<AssistantMessage> messages, IReadOnlyList<RunStepRecord> steps)
    {
        if (!messages.Any(m => m.Annotations.Any(a => a.Kind == CitationKind)))
        {
            return messages;
        }

        var calls = FileSearchCalls(steps);
        return [.. messages.Select(m => Resolve(m, calls))];
    }

    public static AssistantMessage Resolve(AssistantMessage message, IReadOnlyList<RunStepRecord> steps) =>
        message.Annotations.Any(a => a.Kind == CitationKind) ? Resolve(message, FileSearchCalls(steps)) : message;

    private static List<IReadOnlyList<FileSearchResult>> FileSearchCalls(IReadOnlyList<RunStepRecord> steps) =>
        [.. steps.SelectMany(s => s.ToolCalls).Where(c => c.Kind == RunStepToolCallKind.FileSearch && c.FileSearchResults.Count > 0).Select(c => c.FileSearchResults)];

    private static AssistantMessage Resolve(AssistantMessage message, List<IReadOnlyList<FileSearchResult>> calls)
    {
        var annotations = new List<MessageAnnotation>(message.Annotations.Count);
        foreach (var annotation in message.Annotations)
        {
            if (annotation.Kind != CitationKind || annotation.FileId is not { } fileId)
            {
                annotations.Add(annotation);
                continue;
            }

            var result = Match(calls, fileId, ResultIndexOf(annotation.Text));
            annotations.Add(annotation with
            {
                Quote = string.IsNullOrEmpty(annotation.Quote) ? result?.Content ?? annotation.Quote : annotation.Quote,
                FileName = annotation.FileName ?? result?.FileName,
            });
        }

        return message with { Annotations = annotations };
    }

    /// <summary>
    /// The result a citation points at: the marker's index in the latest file search call when that result is from the
    /// cited file, otherwise the best-scored result from the cited file over all calls.
    /// </summary>
    private static FileSearchResult? Match(List<IReadOnlyList<FileSearchResult>> calls, string fileId, int? index)
    {
        for (var i = calls.Count - 1; i >= 0 && index is { } at; i--)
        {
            if (at < calls[i].Count && calls[i][at].FileId == fileId)
            {
                return calls[i][at];
            }
        }

        return calls.SelectMany(c => c).Where(r => r.FileId == fileId).OrderByDescending(r => r.Score).FirstOrDefault();
    }
}
