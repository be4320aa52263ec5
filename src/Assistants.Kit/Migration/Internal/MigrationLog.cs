using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Migration.Internal;

/// <summary>
/// Every log message of the thread migration (event IDs 5000–5999), source-generated. Messages name threads,
/// conversations, keys and counts; never message content, never a credential.
/// </summary>
internal static partial class MigrationLog
{
    [LoggerMessage(5000, LogLevel.Debug, "Migrating thread {ThreadId} (conversation key '{ConversationKey}', dry run {DryRun}).")]
    public static partial void ThreadStarted(ILogger logger, string threadId, string? conversationKey, bool dryRun);

    [LoggerMessage(5001, LogLevel.Information, "Created conversation {ConversationId} for thread {ThreadId}.")]
    public static partial void ConversationCreated(ILogger logger, string conversationId, string threadId);

    [LoggerMessage(5002, LogLevel.Debug, "Carried {Count} messages of thread {ThreadId} into conversation {ConversationId} (up to message {LastMessageId}).")]
    public static partial void BatchCarried(ILogger logger, int count, string threadId, string conversationId, string lastMessageId);

    [LoggerMessage(5003, LogLevel.Information, "Found {Count} items of thread {ThreadId} already in conversation {ConversationId} (written by an interrupted attempt); adopted them instead of writing them again.")]
    public static partial void ItemsAdopted(ILogger logger, int count, string threadId, string conversationId);

    [LoggerMessage(5004, LogLevel.Information, "Thread {ThreadId} migrated to conversation {ConversationId}: {Carried} messages carried now, {AlreadyCarried} before, {NotCarried} pieces not carried.")]
    public static partial void ThreadMigrated(ILogger logger, string threadId, string conversationId, int carried, int alreadyCarried, int notCarried);

    [LoggerMessage(5005, LogLevel.Debug, "Thread {ThreadId} is up to date in conversation {ConversationId}.")]
    public static partial void ThreadUpToDate(ILogger logger, string threadId, string conversationId);

    [LoggerMessage(5006, LogLevel.Warning, "Migrating thread {ThreadId} (conversation key '{ConversationKey}') failed: {Error}")]
    public static partial void ThreadFailed(ILogger logger, string? threadId, string? conversationKey, string error);

    [LoggerMessage(5007, LogLevel.Information, "Switched the Responses binding of conversation key '{ConversationKey}' to conversation {ConversationId} (from thread {ThreadId}).")]
    public static partial void BindingSwitched(ILogger logger, string conversationKey, string conversationId, string threadId);

    [LoggerMessage(5008, LogLevel.Warning, "The Responses binding of conversation key '{ConversationKey}' changed while it was being switched; reading it again (attempt {Attempt}).")]
    public static partial void BindingChanged(ILogger logger, string conversationKey, int attempt);

    [LoggerMessage(5009, LogLevel.Error, "The {Endpoint} server is unreachable or refused the credentials; the migration stops ({Remaining} threads not attempted).")]
    public static partial void MigrationAborted(ILogger logger, MigrationEndpoint endpoint, int remaining);

    [LoggerMessage(5010, LogLevel.Warning, "Conversation {ConversationId} recorded for thread {ThreadId} no longer exists on the target; migrating the thread again into a new conversation.")]
    public static partial void ConversationGone(ILogger logger, string conversationId, string threadId);

    [LoggerMessage(5011, LogLevel.Warning, "Deleted conversation {ConversationId}: another migrator recorded a conversation for thread {ThreadId} first.")]
    public static partial void DuplicateConversationDeleted(ILogger logger, string conversationId, string threadId);

    [LoggerMessage(5012, LogLevel.Warning, "Could not update the mapping record of thread {ThreadId}; it keeps its earlier message count (the conversation's metadata holds the progress).")]
    public static partial void MappingNotUpdated(ILogger logger, string threadId);

    [LoggerMessage(5013, LogLevel.Warning, "Creating a conversation for thread {ThreadId} failed ambiguously and was sent again; an empty conversation may be left on the target.")]
    public static partial void ConversationCreateResent(ILogger logger, string threadId);
}
