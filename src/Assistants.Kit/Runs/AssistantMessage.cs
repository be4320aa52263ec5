namespace Assistants.Kit;

/// <summary>A message on a thread (or conversation), in the kit's own shape.</summary>
/// <param name="Id">The message ID.</param>
/// <param name="Role">The role: <c>assistant</c> or <c>user</c>.</param>
/// <param name="Text">The text of all text parts, joined with newlines.</param>
/// <param name="Annotations">Citations and file paths in the text.</param>
/// <param name="ImageFileIds">IDs of image files in the message (e.g. code interpreter charts).</param>
/// <param name="CreatedAt">When the server created the message.</param>
/// <param name="RunId">The run that created it, if any.</param>
public sealed record AssistantMessage(
    string Id,
    string Role,
    string Text,
    IReadOnlyList<MessageAnnotation> Annotations,
    IReadOnlyList<string> ImageFileIds,
    DateTimeOffset CreatedAt,
    string? RunId);

/// <summary>An annotation in a message's text: a file citation or a file path.</summary>
/// <param name="Kind">The kind: <c>file_citation</c> or <c>file_path</c>.</param>
/// <param name="Text">The text in the message the annotation replaces, e.g. <c>【4:0†source】</c>.</param>
/// <param name="FileId">The cited or generated file's ID.</param>
/// <param name="StartIndex">The start of <paramref name="Text"/> in the message text.</param>
/// <param name="EndIndex">The end of <paramref name="Text"/> in the message text.</param>
/// <param name="Quote">
/// The quoted text of a citation: the server's quote when it sends one, otherwise the file search result the citation
/// points at (the kit matches citations to the run's file search results; needs the step log or a stream).
/// </param>
/// <param name="FileName">
/// The cited or generated file's name, when known: from the citation marker (<c>【4:0†notes.md】</c>), the file search
/// results, or the sandbox path of a generated file (<c>sandbox:/mnt/data/chart.png</c>).
/// </param>
public sealed record MessageAnnotation(string Kind, string Text, string? FileId, int StartIndex, int EndIndex, string? Quote = null, string? FileName = null);
