namespace Assistants.Kit;

/// <summary>The file side of a run's result: citations, file search results, code interpreter calls and output files.</summary>
public static class RunResultFileExtensions
{
    /// <summary>Gets the <c>file_citation</c> annotations of the run's messages, in order, with their quotes and file names.</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The citations.</returns>
    public static IReadOnlyList<MessageAnnotation> GetCitations(this RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. result.Messages.SelectMany(m => m.Annotations).Where(a => a.Kind == "file_citation")];
    }

    /// <summary>Gets the file search results of the run's steps (needs the step log, on by default, or a stream).</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The results of every file search call, in order.</returns>
    public static IReadOnlyList<FileSearchResult> GetFileSearchResults(this RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. ToolCalls(result, RunStepToolCallKind.FileSearch).SelectMany(c => c.FileSearchResults)];
    }

    /// <summary>Gets the run's code interpreter calls, with their input, logs and image files (needs the step log or a stream).</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The calls, in order.</returns>
    public static IReadOnlyList<RunStepToolCall> GetCodeInterpreterCalls(this RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. ToolCalls(result, RunStepToolCallKind.CodeInterpreter)];
    }

    /// <summary>
    /// Gets the files the run produced: images in its messages and code interpreter outputs, and files linked through
    /// <c>file_path</c> annotations; each once.
    /// </summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The files, in order of appearance.</returns>
    public static IReadOnlyList<OutputFile> GetOutputFiles(this RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var files = new List<OutputFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string? fileId, string? name, OutputFileKind kind)
        {
            if (!string.IsNullOrEmpty(fileId) && seen.Add(fileId))
            {
                files.Add(new OutputFile(fileId, SafeName(name) ?? (kind == OutputFileKind.Image ? fileId + ".png" : fileId), kind));
            }
        }

        foreach (var call in ToolCalls(result, RunStepToolCallKind.CodeInterpreter))
        {
            foreach (var image in call.CodeInterpreterImageFileIds)
            {
                Add(image, null, OutputFileKind.Image);
            }
        }

        foreach (var message in result.Messages)
        {
            foreach (var image in message.ImageFileIds)
            {
                Add(image, null, OutputFileKind.Image);
            }

            foreach (var annotation in message.Annotations.Where(a => a.Kind == "file_path"))
            {
                Add(annotation.FileId, annotation.FileName, OutputFileKind.GeneratedFile);
            }
        }

        return files;
    }

    private static IEnumerable<RunStepToolCall> ToolCalls(RunResult result, RunStepToolCallKind kind) =>
        result.Steps.SelectMany(s => s.ToolCalls).Where(c => c.Kind == kind);

    /// <summary>A name from the server, reduced to a plain file name (no directories, no parent references).</summary>
    private static string? SafeName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var plain = Path.GetFileName(name.Replace('\\', '/').Split('/')[^1]);
        return plain.Length == 0 || plain is "." or ".." || plain.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 ? null : plain;
    }
}
