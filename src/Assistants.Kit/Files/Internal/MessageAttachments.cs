using OpenAI.Assistants;

namespace Assistants.Kit.Files.Internal;

/// <summary>Turns the kit's attachments into the official client's.</summary>
internal static class MessageAttachments
{
    public static MessageCreationAttachment ToSdk(MessageAttachment attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        ArgumentException.ThrowIfNullOrWhiteSpace(attachment.FileId, nameof(attachment));
        var tools = new List<ToolDefinition>();
        if (attachment.Tools.HasFlag(AttachmentTools.FileSearch))
        {
            tools.Add(ToolDefinition.CreateFileSearch());
        }

        if (attachment.Tools.HasFlag(AttachmentTools.CodeInterpreter))
        {
            tools.Add(ToolDefinition.CreateCodeInterpreter());
        }

        if (tools.Count == 0)
        {
            throw new ArgumentException($"The attachment of file '{attachment.FileId}' names no tool (Tools = {attachment.Tools}); attach it for FileSearch, CodeInterpreter or both.", nameof(attachment));
        }

        return new MessageCreationAttachment(attachment.FileId, tools);
    }
}
