namespace Assistants.Kit;

/// <summary>The built-in tools a file is meant for.</summary>
[Flags]
public enum AttachmentTools
{
    /// <summary>No tool.</summary>
    None = 0,

    /// <summary>File search: the file is indexed and its passages can be cited.</summary>
    FileSearch = 1,

    /// <summary>Code interpreter: the file is put in the sandbox for code to read.</summary>
    CodeInterpreter = 2,
}

/// <summary>
/// A file attached to a user message (Assistants protocol, the message's <c>attachments</c>): for
/// <c>file_search</c> the service indexes it in the thread's vector store, for <c>code_interpreter</c> it puts it in the
/// sandbox. Set on <see cref="RunOptions.Attachments"/>.
/// </summary>
/// <param name="FileId">The uploaded file's ID (see <see cref="AssistantFiles.UploadAsync(string, CancellationToken)"/>).</param>
/// <param name="Tools">The tools the file is for; at least one.</param>
public sealed record MessageAttachment(string FileId, AttachmentTools Tools = AttachmentTools.FileSearch)
{
    /// <summary>A file for file search.</summary>
    /// <param name="fileId">The file ID.</param>
    /// <returns>The attachment.</returns>
    public static MessageAttachment ForFileSearch(string fileId) => new(fileId, AttachmentTools.FileSearch);

    /// <summary>A file for code interpreter.</summary>
    /// <param name="fileId">The file ID.</param>
    /// <returns>The attachment.</returns>
    public static MessageAttachment ForCodeInterpreter(string fileId) => new(fileId, AttachmentTools.CodeInterpreter);
}
