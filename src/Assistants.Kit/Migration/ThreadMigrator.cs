using Assistants.Kit.Internal;
using Assistants.Kit.Migration.Internal;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit;

/// <summary>
/// Migrates Assistants v2 threads (on the source server) to Responses conversations (on the target server): every
/// message becomes one conversation item, in order; the thread → conversation mapping is recorded in the kit's
/// <see cref="IConversationStore"/>; a conversation key's Responses binding switches to the new conversation once its
/// thread is fully carried. Resolve it from DI after <c>services.AddAssistantsKitMigration(…)</c>.
/// </summary>
/// <remarks>
/// <para><b>What is carried.</b> User and assistant messages become <c>message</c> items with their role: text as
/// <c>input_text</c> (user) or <c>output_text</c> (assistant), an assistant refusal as <c>refusal</c>, a user image URL
/// as <c>input_image</c> with <c>image_url</c>, and a user image file as <c>input_image</c> with the target's
/// <c>file_id</c> when the file is in <see cref="MigrationOptions.FileIdMap"/>. Not carried, and reported per thread in
/// <see cref="ThreadMigrationReport.NotCarried"/>: image files not in the map (files belong to a server), images in
/// assistant messages, attachments (file search / code interpreter tool resources), text annotations (the annotated
/// text itself is carried verbatim), message metadata (except the kit's own <c>kit_*</c> entries), the tool calls of run steps (function calls, code interpreter
/// inputs and outputs, file searches) and thread metadata entries beyond what a conversation holds. A message with
/// nothing representable becomes no item.</para>
/// <para><b>Progress and idempotency.</b> The conversation is created empty, with metadata
/// <c>kit_source_thread</c>, and recorded at once in the store as a Responses binding under the key
/// <see cref="MappingKeyPrefix"/> + thread ID (its <see cref="ConversationBinding.ThreadId"/> is the conversation, its
/// <see cref="ConversationBinding.PreviousThreadIds"/> the thread). Items are written in batches of
/// <see cref="ThreadMigratorOptions.BatchSize"/>; after each batch the conversation's metadata records the last carried
/// message (<c>kit_last_message</c>), the last written item (<c>kit_last_item</c>) and the count
/// (<c>kit_carried</c>). A later call reads only the messages after <c>kit_last_message</c>, so a finished thread
/// costs a few reads and no write, a failed one resumes where it stopped, and messages added to the thread since are
/// carried (a catch-up run before switching the application over). A batch write that failed ambiguously (5xx,
/// timeout, dropped connection) is reconciled by listing the items after <c>kit_last_item</c> and comparing them with
/// the batch: adopted when it landed, sent again when not, never duplicated; a resumed call does the same for the
/// items an interrupted attempt wrote after the recorded progress.</para>
/// <para><b>Binding switch.</b> A keyed migration reads the key's Assistants binding for the thread. When the thread is
/// fully carried, the key's Responses binding is saved in one optimistic write with
/// <see cref="ConversationBinding.ThreadId"/> = the conversation and the thread (and any conversation the binding had)
/// appended to <see cref="ConversationBinding.PreviousThreadIds"/>; a concurrent change is read again. A Responses
/// binding with a response in flight is not switched (the thread fails, a later call switches it). The Assistants binding
/// is left as it is, so an application still on the Assistants protocol keeps working and a migration can be rehearsed;
/// the application moves by switching <see cref="AssistantsKitOptions.Protocol"/> to
/// <see cref="AssistantsProtocol.Responses"/>.</para>
/// <para><b>Limits.</b> A thread with an active run (or a message in progress) is not migrated until the run ended.
/// Run one migrator per thread at a time: a second migrator that starts the same thread loses the optimistic save of
/// the mapping and stops, but two migrators resuming the same thread concurrently are not fenced. Conversations cannot
/// be listed: a conversation creation that failed ambiguously is sent again and may leave an empty conversation.</para>
/// </remarks>
public sealed class ThreadMigrator
{
    /// <summary>The prefix of the store keys under which the thread → conversation mappings are recorded (protocol <see cref="AssistantsProtocol.Responses"/>).</summary>
    public const string MappingKeyPrefix = "kit-migration:";

    /// <summary>The conversation metadata key naming the source thread.</summary>
    public const string SourceThreadMetadataKey = "kit_source_thread";

    /// <summary>The conversation metadata key naming the last source message carried.</summary>
    public const string LastMessageMetadataKey = "kit_last_message";

    /// <summary>The conversation metadata key naming the last item the migration wrote.</summary>
    public const string LastItemMetadataKey = "kit_last_item";

    /// <summary>The conversation metadata key holding how many messages were carried.</summary>
    public const string CarriedMetadataKey = "kit_carried";

    private readonly MigrationContext _context;
    private readonly ILogger _logger;

    internal ThreadMigrator(MigrationClients clients, Protocols.Internal.WriteReconciler reconciler, IConversationStore store, ThreadMigratorOptions options, ILogger logger)
    {
        _logger = logger;
        _context = new MigrationContext(
            new SourceThreadReader(clients),
            new TargetConversationWriter(clients, reconciler, logger),
            store,
            options.BatchSize,
            logger);
    }

    /// <summary>
    /// Migrates one thread without a conversation key (no binding is switched; the mapping is recorded). Safe to
    /// repeat: a migrated thread is skipped, a failed one resumes.
    /// </summary>
    /// <param name="threadId">The source thread ID (<c>thread_…</c>).</param>
    /// <param name="options">The options of this call; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The report; failures are reported (<see cref="ThreadMigrationStatus.Failed"/>), not thrown.</returns>
    public Task<ThreadMigrationReport> MigrateThreadAsync(string threadId, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(threadId);
        options ??= new MigrationOptions();
        Validate(options);
        return new ThreadMigration(_context, threadId, null, options, 1, 1).RunAsync(cancellationToken);
    }

    /// <summary>Migrates several threads without conversation keys, in order; stops when a server is unreachable or refuses the credentials.</summary>
    /// <param name="threadIds">The source thread IDs.</param>
    /// <param name="options">The options of this call; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The summary, with one report per thread.</returns>
    public Task<MigrationSummary> MigrateThreadsAsync(IEnumerable<string> threadIds, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNull(threadIds);
        var work = threadIds.Select(id => Throw.IfNullOrWhiteSpace(id, nameof(threadIds))).Distinct(StringComparer.Ordinal).Select(id => (Key: (string?)null, ThreadId: (string?)id)).ToList();
        return RunAsync(work, options, cancellationToken);
    }

    /// <summary>
    /// Migrates the threads of conversation keys (each key's Assistants binding names its thread) and switches each
    /// key's Responses binding to its new conversation; in order; stops when a server is unreachable or refuses the
    /// credentials. A key without an Assistants binding is reported as failed.
    /// </summary>
    /// <param name="conversationKeys">The application's conversation keys.</param>
    /// <param name="options">The options of this call; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The summary, with one report per key.</returns>
    public Task<MigrationSummary> MigrateAsync(IEnumerable<string> conversationKeys, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNull(conversationKeys);
        var work = conversationKeys.Select(k => Throw.IfNullOrWhiteSpace(k, nameof(conversationKeys))).Distinct(StringComparer.Ordinal).Select(k => (Key: (string?)k, ThreadId: (string?)null)).ToList();
        return RunAsync(work, options, cancellationToken);
    }

    /// <summary>Migrates every conversation key that has an Assistants binding in the store (see <see cref="MigrateAsync"/>), in key order.</summary>
    /// <param name="options">The options of this call; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The summary, with one report per key.</returns>
    public async Task<MigrationSummary> MigrateAllAsync(MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var binding in _context.Store.ListAsync(AssistantsProtocol.Assistants, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(binding.ConversationKey);
        }

        return await MigrateAsync(keys, options, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MigrationSummary> RunAsync(List<(string? Key, string? ThreadId)> work, MigrationOptions? options, CancellationToken cancellationToken)
    {
        options ??= new MigrationOptions();
        Validate(options);
        var reports = new List<ThreadMigrationReport>(work.Count);
        MigrationEndpoint? aborted = null;
        for (var i = 0; i < work.Count; i++)
        {
            var (key, threadId) = work[i];
            if (aborted is { } endpoint)
            {
                reports.Add(new ThreadMigrationReport
                {
                    ConversationKey = key,
                    ThreadId = threadId,
                    Status = ThreadMigrationStatus.NotAttempted,
                    DryRun = options.DryRun,
                    Error = $"Not attempted: the {endpoint.ToString().ToLowerInvariant()} server is unreachable or refused the credentials.",
                });
                continue;
            }

            if (key is not null)
            {
                var binding = await _context.Store.GetAsync(key, AssistantsProtocol.Assistants, cancellationToken).ConfigureAwait(false);
                if (binding is null)
                {
                    var report = new ThreadMigrationReport
                    {
                        ConversationKey = key,
                        Status = ThreadMigrationStatus.Failed,
                        DryRun = options.DryRun,
                        Error = $"Conversation key '{key}' has no Assistants binding in the store.",
                    };
                    MigrationLog.ThreadFailed(_logger, null, key, report.Error);
                    options.Progress?.Report(new MigrationProgress(MigrationProgressStage.ThreadFinished, i + 1, work.Count, key, null, null, 0, report));
                    reports.Add(report);
                    continue;
                }

                threadId = binding.ThreadId;
            }

            var result = await new ThreadMigration(_context, threadId!, key, options, i + 1, work.Count).RunAsync(cancellationToken).ConfigureAwait(false);
            reports.Add(result);
            if (result.EndpointFailure is { } failed)
            {
                aborted = failed;
                MigrationLog.MigrationAborted(_logger, failed, work.Count - i - 1);
            }
        }

        return new MigrationSummary { Threads = reports };
    }

    private static void Validate(MigrationOptions options)
    {
        foreach (var (source, target) in options.FileIdMap)
        {
            if (string.IsNullOrWhiteSpace(source) || string.IsNullOrWhiteSpace(target))
            {
                throw new ArgumentException($"MigrationOptions.FileIdMap maps '{source}' to '{target}'; both file IDs must be non-empty.", nameof(options));
            }
        }
    }
}
