using System.Collections.Frozen;
using System.Globalization;

namespace Assistants.Kit;

/// <summary>
/// The limits the service enforces on files and vector stores, checked by <see cref="AssistantFiles"/> on the client
/// before anything is uploaded, so a bad file fails fast with a message that names it instead of after a long upload.
/// </summary>
public static class FileLimits
{
    /// <summary>The largest file the service accepts: 512 MB (536,870,912 bytes).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    /// <summary>The most files one vector store holds: 10,000.</summary>
    public const int MaxFilesPerVectorStore = 10_000;

    /// <summary>The most files one file batch adds: 500 (larger sets are sent as several batches).</summary>
    public const int MaxFilesPerBatch = 500;

    /// <summary>The most attributes one vector store file carries: 16 (the kit uses two of them, see <see cref="AssistantFiles"/>).</summary>
    public const int MaxAttributes = 16;

    /// <summary>
    /// The extensions file search indexes: <c>.c .cpp .cs .css .doc .docx .go .html .java .js .json .md .pdf .php .pptx
    /// .py .rb .sh .tex .ts .txt</c>. A file with another extension is refused before upload.
    /// </summary>
    public static IReadOnlySet<string> FileSearchExtensions { get; } = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        ".c", ".cpp", ".cs", ".css", ".doc", ".docx", ".go", ".html", ".java", ".js", ".json", ".md", ".pdf", ".php", ".pptx",
        ".py", ".rb", ".sh", ".tex", ".ts", ".txt");

    /// <summary>
    /// The extensions code interpreter reads: everything <see cref="FileSearchExtensions"/> holds, plus <c>.csv .gif .jpeg
    /// .jpg .pkl .png .tar .xlsx .xml .zip</c>.
    /// </summary>
    public static IReadOnlySet<string> CodeInterpreterExtensions { get; } = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        [.. FileSearchExtensions, ".csv", ".gif", ".jpeg", ".jpg", ".pkl", ".png", ".tar", ".xlsx", ".xml", ".zip"]);

    /// <summary>Gets whether a file name has an extension the given tools accept.</summary>
    /// <param name="fileName">The file name (or path).</param>
    /// <param name="tools">
    /// The tools the file is for; a file for both must suit both. <see cref="AttachmentTools.None"/> means "either tool"
    /// (a plain upload): the extension must suit one of them.
    /// </param>
    /// <returns><see langword="true"/> when the extension is accepted.</returns>
    public static bool IsSupported(string fileName, AttachmentTools tools)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var extension = Path.GetExtension(fileName);
        if (tools == AttachmentTools.None)
        {
            return CodeInterpreterExtensions.Contains(extension);
        }

        return (!tools.HasFlag(AttachmentTools.FileSearch) || FileSearchExtensions.Contains(extension))
            && (!tools.HasFlag(AttachmentTools.CodeInterpreter) || CodeInterpreterExtensions.Contains(extension));
    }

    /// <summary>Throws <see cref="FileLimitException"/> when a file is too large or has an extension the tools do not accept.</summary>
    /// <param name="fileName">The file name.</param>
    /// <param name="length">The file's size in bytes, when known.</param>
    /// <param name="tools">The tools the file is for.</param>
    /// <exception cref="FileLimitException">The file breaks a limit.</exception>
    public static void Check(string fileName, long? length, AttachmentTools tools)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        if (length > MaxFileBytes)
        {
            throw new FileLimitException(
                fileName,
                string.Create(CultureInfo.InvariantCulture, $"'{fileName}' is {length:N0} bytes; the service accepts files up to {MaxFileBytes:N0} bytes (512 MB)."));
        }

        if (!IsSupported(fileName, tools))
        {
            var allowed = tools.HasFlag(AttachmentTools.FileSearch) ? FileSearchExtensions : CodeInterpreterExtensions;
            var extension = Path.GetExtension(fileName);
            throw new FileLimitException(
                fileName,
                $"'{fileName}' has the extension '{(extension.Length == 0 ? "(none)" : extension)}', which {Describe(tools)} {(tools == AttachmentTools.None ? "accepts" : "does not accept")}. Accepted: {string.Join(" ", allowed.Order(StringComparer.Ordinal))}.");
        }
    }

    private static string Describe(AttachmentTools tools) => tools switch
    {
        AttachmentTools.CodeInterpreter => "code interpreter",
        AttachmentTools.FileSearch => "file search",
        AttachmentTools.None => "neither file search nor code interpreter",
        _ => "file search and code interpreter",
    };
}

/// <summary>A file breaks a limit of the service (size, extension, count); thrown before anything is uploaded.</summary>
public sealed class FileLimitException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="FileLimitException"/> class.</summary>
    /// <param name="fileName">The file (or vector store) the limit applies to.</param>
    /// <param name="message">The message, naming the file, its value and the limit.</param>
    public FileLimitException(string fileName, string message)
        : base(message) => FileName = fileName;

    /// <summary>Gets the file (or vector store) the limit applies to.</summary>
    public string FileName { get; }
}
