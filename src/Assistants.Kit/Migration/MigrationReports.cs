namespace Assistants.Kit;

/// <summary>How the migration of one thread ended.</summary>
public enum ThreadMigrationStatus
{
    /// <summary>The thread is fully carried: this call created the conversation, carried messages or switched the binding.</summary>
    Migrated,

    /// <summary>Nothing to do: every message was carried before and the binding (if any) already points to the conversation.</summary>
    UpToDate,

    /// <summary>Dry run: the thread would be migrated (a conversation created, messages carried or a binding switched).</summary>
    WouldMigrate,

    /// <summary>
    /// The migration failed; <see cref="ThreadMigrationReport.Error"/> says why. What was carried stays carried and the
    /// progress is recorded: run the migration again to resume.
    /// </summary>
    Failed,

    /// <summary>Not attempted, because an earlier thread found a server unreachable or refusing the credentials.</summary>
    NotAttempted,
}

/// <summary>Which server of a migration.</summary>
public enum MigrationEndpoint
{
    /// <summary>The Assistants-protocol server the threads are read from.</summary>
    Source,

    /// <summary>The Responses-protocol server the conversations are written to.</summary>
    Target,
}

/// <summary>What kind of thread content a migration could not carry.</summary>
public enum NotCarriedKind
{
    /// <summary>An <c>image_file</c> part whose file is not mapped to a target file, or any image file of an assistant message.</summary>
    ImageFile,

    /// <summary>An <c>image_url</c> part of an assistant message (Responses output messages hold text only).</summary>
    ImageUrl,

    /// <summary>A file attached to a message for file search or code interpreter (Responses has no thread-level tool resources).</summary>
    Attachment,

    /// <summary>A text annotation (file citation or file path); the annotated text itself is carried verbatim.</summary>
    Annotation,

    /// <summary>A content part of a type the migrator does not know.</summary>
    UnknownContent,

    /// <summary>A message with no content that can be carried (it becomes no item).</summary>
    EmptyMessage,

    /// <summary>A function call of a run step, with its arguments and output.</summary>
    FunctionCall,

    /// <summary>A code interpreter call of a run step, with its input and outputs (logs, images).</summary>
    CodeInterpreter,

    /// <summary>A file search call of a run step.</summary>
    FileSearch,

    /// <summary>A metadata entry of the thread that does not fit on the conversation (16 entries at most).</summary>
    ThreadMetadata,

    /// <summary>A metadata entry of a message (conversation items have no metadata; the kit's own <c>kit_*</c> entries are not reported).</summary>
    MessageMetadata,
}

/// <summary>One piece of a thread that was not carried into the conversation.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="MessageId">The source message it belongs to, if any.</param>
/// <param name="RunId">The source run it belongs to, if any.</param>
/// <param name="Detail">A description naming IDs (files, tools), never message text or credentials.</param>
public sealed record NotCarriedContent(NotCarriedKind Kind, string? MessageId, string? RunId, string Detail);

/// <summary>The outcome of migrating one thread.</summary>
public sealed record ThreadMigrationReport
{
    /// <summary>Gets the conversation key whose binding named the thread, or <see langword="null"/> for an ad hoc thread.</summary>
    public string? ConversationKey { get; init; }

    /// <summary>Gets the source thread ID (<see langword="null"/> when a key has no Assistants binding).</summary>
    public string? ThreadId { get; init; }

    /// <summary>Gets the target conversation ID (<see langword="null"/> when none was created yet, e.g. in a dry run).</summary>
    public string? ConversationId { get; init; }

    /// <summary>Gets the outcome.</summary>
    public required ThreadMigrationStatus Status { get; init; }

    /// <summary>Gets a value indicating whether this was a dry run (nothing was written).</summary>
    public bool DryRun { get; init; }

    /// <summary>Gets a value indicating whether this call created the conversation (in a dry run: would create it).</summary>
    public bool ConversationCreated { get; init; }

    /// <summary>Gets how many messages this call carried (in a dry run: would carry), each as one conversation item.</summary>
    public int MessagesCarried { get; init; }

    /// <summary>Gets how many messages earlier calls had carried already (skipped by this one).</summary>
    public int MessagesAlreadyCarried { get; init; }

    /// <summary>Gets how many messages this call read that had nothing representable (no item was written for them).</summary>
    public int MessagesNotRepresentable { get; init; }

    /// <summary>Gets the content this call could not carry, per message or run.</summary>
    public IReadOnlyList<NotCarriedContent> NotCarried { get; init; } = [];

    /// <summary>Gets a value indicating whether this call switched the key's Responses binding (in a dry run: would switch it).</summary>
    public bool BindingSwitched { get; init; }

    /// <summary>Gets why the migration failed, without credentials; <see langword="null"/> unless <see cref="ThreadMigrationStatus.Failed"/>.</summary>
    public string? Error { get; init; }

    /// <summary>
    /// Gets the server that was unreachable or refused the credentials (HTTP 401/403), when that is why the migration
    /// failed; a migration of several threads stops at such a failure.
    /// </summary>
    public MigrationEndpoint? EndpointFailure { get; init; }
}

/// <summary>The outcome of migrating several threads.</summary>
public sealed record MigrationSummary
{
    /// <summary>Gets the report of every thread, in the order asked for.</summary>
    public required IReadOnlyList<ThreadMigrationReport> Threads { get; init; }

    /// <summary>Gets a value indicating whether the migration stopped early because a server was unreachable or refused the credentials.</summary>
    public bool Aborted => Threads.Any(t => t.EndpointFailure is not null);

    /// <summary>Gets a value indicating whether every thread is migrated, up to date or (dry run) would be migrated.</summary>
    public bool Succeeded => Threads.All(t => t.Status is ThreadMigrationStatus.Migrated or ThreadMigrationStatus.UpToDate or ThreadMigrationStatus.WouldMigrate);

    /// <summary>Gets how many threads have the status.</summary>
    /// <param name="status">The status.</param>
    /// <returns>The number of threads.</returns>
    public int Count(ThreadMigrationStatus status) => Threads.Count(t => t.Status == status);

    /// <summary>Gets how many messages were carried (in a dry run: would be carried) in all.</summary>
    public int MessagesCarried => Threads.Sum(t => t.MessagesCarried);
}

/// <summary>What a progress notification is about.</summary>
public enum MigrationProgressStage
{
    /// <summary>A thread's migration started.</summary>
    ThreadStarted,

    /// <summary>A batch of items was written (or, in a dry run, planned) and the progress recorded.</summary>
    BatchCarried,

    /// <summary>A thread's migration ended; <see cref="MigrationProgress.Report"/> is set.</summary>
    ThreadFinished,
}

/// <summary>A progress notification of a migration.</summary>
/// <param name="Stage">What happened.</param>
/// <param name="Index">The thread's position in this call (1-based).</param>
/// <param name="Count">How many threads this call migrates.</param>
/// <param name="ConversationKey">The conversation key, if any.</param>
/// <param name="ThreadId">The source thread ID, if known.</param>
/// <param name="ConversationId">The target conversation ID, if known.</param>
/// <param name="MessagesCarried">How many messages of the thread this call has carried so far.</param>
/// <param name="Report">The thread's report (<see cref="MigrationProgressStage.ThreadFinished"/> only).</param>
public sealed record MigrationProgress(
    MigrationProgressStage Stage,
    int Index,
    int Count,
    string? ConversationKey,
    string? ThreadId,
    string? ConversationId,
    int MessagesCarried,
    ThreadMigrationReport? Report);
