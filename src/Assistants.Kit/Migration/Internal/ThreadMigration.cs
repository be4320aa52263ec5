using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Migration.Internal;

/// <summary>What every thread migration of one migrator shares.</summary>
internal sealed record MigrationContext(
    SourceThreadReader Source,
    TargetConversationWriter Target,
    IConversationStore Store,
    int BatchSize,
    ILogger Logger);

/// <summary>
/// Migrates one thread (see <see cref="ThreadMigrator"/> for the contract). The progress lives in the target
/// conversation's metadata (<c>kit_last_message</c>, <c>kit_last_item</c>, <c>kit_carried</c>), updated after every
/// batch; the thread → conversation mapping in the store, saved right after the conversation is created.
/// </summary>
internal sealed class ThreadMigration
{
    /// <summary>Metadata entries the migrator keeps on the conversation; the rest of the 16 carry the thread's metadata.</summary>
    private const int ReservedMetadataEntries = 4;
    private const int MaxMetadataEntries = 16;

    private readonly MigrationContext _context;
    private readonly string _threadId;
    private readonly string? _key;
    private readonly MigrationOptions _options;
    private readonly int _index;
    private readonly int _count;
    private readonly List<NotCarriedContent> _notCarried = [];
    private string? _conversationId;
    private int _carried;
    private int _alreadyCarried;
    private int _notRepresentable;
    private bool _created;

    public ThreadMigration(MigrationContext context, string threadId, string? key, MigrationOptions options, int index, int count)
    {
        _context = context;
        _threadId = threadId;
        _key = key;
        _options = options;
        _index = index;
        _count = count;
    }

    private ILogger Logger => _context.Logger;

    public async Task<ThreadMigrationReport> RunAsync(CancellationToken cancellationToken)
    {
        MigrationLog.ThreadStarted(Logger, _threadId, _key, _options.DryRun);
        Report(MigrationProgressStage.ThreadStarted);
        try
        {
            return await MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MigrationRemoteException ex)
        {
            return Failed(ex.Message, ex.IsEndpointFailure ? ex.Endpoint : null);
        }
        catch (MigrationConflictException ex)
        {
            return Failed(ex.Message, null);
        }
        catch (ConversationConcurrencyException ex)
        {
            return Failed(ex.Message, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Text.Json.JsonException)
        {
            // A response the migrator cannot read (a server that is not quite compatible): this thread fails, the
            // others go on.
            return Failed($"Unexpected response: {ex.Message}", null);
        }
    }

    private async Task<ThreadMigrationReport> MigrateAsync(CancellationToken cancellationToken)
    {
        var store = _context.Store;
        var mappingKey = ThreadMigrator.MappingKeyPrefix + _threadId;
        var mapping = await store.GetAsync(mappingKey, AssistantsProtocol.Responses, cancellationToken).ConfigureAwait(false);

        // 1. Where the thread stands: its conversation and the progress recorded on it.
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (mapping is not null)
        {
            var conversation = await _context.Target.GetConversationAsync(mapping.ThreadId, cancellationToken).ConfigureAwait(false);
            if (conversation is null)
            {
                MigrationLog.ConversationGone(Logger, mapping.ThreadId, _threadId);
            }
            else
            {
                metadata = TargetConversationWriter.Metadata(conversation);
                if (metadata.GetValueOrDefault(ThreadMigrator.SourceThreadMetadataKey) is { } recorded && recorded != _threadId)
                {
                    throw new MigrationConflictException($"Conversation {mapping.ThreadId} recorded for thread {_threadId} belongs to thread {recorded}.");
                }

                _conversationId = mapping.ThreadId;
                _alreadyCarried = int.TryParse(metadata.GetValueOrDefault(ThreadMigrator.CarriedMetadataKey), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            }
        }

        if (_conversationId is null)
        {
            var thread = await _context.Source.GetThreadAsync(_threadId, cancellationToken).ConfigureAwait(false)
                ?? throw new MigrationConflictException($"Thread {_threadId} does not exist on the source.");
            metadata = NewConversationMetadata(thread);
        }

        // 2. A thread with a run in flight is still changing: it is migrated once the run has ended.
        if (await _context.Source.GetNewestRunAsync(_threadId, cancellationToken).ConfigureAwait(false) is { } run
            && run["status"]?.GetValue<string>() is "queued" or "in_progress" or "requires_action" or "cancelling")
        {
            throw new MigrationConflictException($"Thread {_threadId} has an active run {run["id"]?.GetValue<string>()} ({run["status"]!.GetValue<string>()}); migrate it when the run has ended.");
        }

        // 3. The messages after the last one carried, and what they become.
        var lastMessage = _conversationId is null ? null : metadata.GetValueOrDefault(ThreadMigrator.LastMessageMetadataKey);
        var lastItem = _conversationId is null ? null : metadata.GetValueOrDefault(ThreadMigrator.LastItemMetadataKey);
        var messages = await _context.Source.ListMessagesAsync(_threadId, lastMessage, cancellationToken).ConfigureAwait(false);
        var mapped = messages.Select(m => ItemMapper.Map(m, _options.FileIdMap)).ToList();
        if (mapped.FirstOrDefault(m => m.Status == "in_progress") is { } inProgress)
        {
            throw new MigrationConflictException($"Message {inProgress.Id} of thread {_threadId} is still in progress; migrate the thread when its run has ended.");
        }

        _notCarried.AddRange(mapped.SelectMany(m => m.NotCarried));
        if (_options.InspectRunSteps)
        {
            foreach (var runId in mapped.Select(m => m.RunId).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                var steps = await _context.Source.ListRunStepsAsync(_threadId, runId, cancellationToken).ConfigureAwait(false);
                _notCarried.AddRange(ItemMapper.RunStepToolCalls(runId, steps));
            }
        }

        var carryable = mapped.Count(m => m.Item is not null);
        var notRepresentable = _notRepresentable = mapped.Count - carryable;
        var switchBinding = _key is not null && _options.SwitchBindings;

        // 4. A dry run stops here, having only read.
        if (_options.DryRun)
        {
            var bindingWouldSwitch = switchBinding && await BindingNeedsSwitchAsync(cancellationToken).ConfigureAwait(false);
            var work = _conversationId is null || mapped.Count > 0 || bindingWouldSwitch;
            _carried = carryable;
            return Finish(work ? ThreadMigrationStatus.WouldMigrate : ThreadMigrationStatus.UpToDate, _conversationId is null, notRepresentable, bindingWouldSwitch);
        }

        // 5. The conversation, recorded in the store before anything is written into it.
        var created = false;
        if (_conversationId is null)
        {
            metadata[ThreadMigrator.CarriedMetadataKey] = "0";
            var conversationId = await _context.Target.CreateConversationAsync(_threadId, metadata, cancellationToken).ConfigureAwait(false);
            try
            {
                await store.SaveAsync(
                    new ConversationBinding
                    {
                        ConversationKey = mappingKey,
                        Protocol = AssistantsProtocol.Responses,
                        ThreadId = conversationId,
                        PreviousThreadIds = [_threadId],
                        CreatedAt = mapping?.CreatedAt ?? default,
                        Version = mapping?.Version ?? 0,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (ConversationConcurrencyException)
            {
                if (await _context.Target.TryDeleteConversationAsync(conversationId, cancellationToken).ConfigureAwait(false))
                {
                    MigrationLog.DuplicateConversationDeleted(Logger, conversationId, _threadId);
                }

                throw new MigrationConflictException($"Thread {_threadId} is being migrated by another migrator (its mapping was recorded meanwhile); run the migration again when that one has finished.");
            }

            _conversationId = conversationId;
            created = _created = true;
            MigrationLog.ConversationCreated(Logger, conversationId, _threadId);
        }

        // 6. The items, in order, in batches; the progress is recorded after each. A resumed migration first adopts the
        // items an interrupted attempt wrote after the recorded progress.
        var reconcile = !created;
        var next = 0;
        while (next < mapped.Count)
        {
            var window = new List<MappedMessage>();
            var items = new List<JsonObject>();
            while (next < mapped.Count && (items.Count < _context.BatchSize || mapped[next].Item is null))
            {
                window.Add(mapped[next]);
                if (mapped[next++].Item is { } item)
                {
                    items.Add(item);
                }
            }

            var pending = items;
            if (reconcile && items.Count > 0)
            {
                var adopted = await _context.Target.MatchPrefixAsync(_conversationId, lastItem, items, cancellationToken).ConfigureAwait(false);
                if (adopted.Count > 0)
                {
                    MigrationLog.ItemsAdopted(Logger, adopted.Count, _threadId, _conversationId);
                    lastItem = adopted[^1];
                }

                // An interrupted attempt may have written more than this window (a larger batch size): keep looking.
                reconcile = adopted.Count == items.Count;
                pending = items[adopted.Count..];
            }

            if (pending.Count > 0)
            {
                var ids = await _context.Target.AppendItemsAsync(_conversationId, lastItem, pending, $"{_conversationId}@{window[^1].Id}", cancellationToken).ConfigureAwait(false);
                lastItem = ids[^1];
            }

            _carried += items.Count;
            metadata[ThreadMigrator.LastMessageMetadataKey] = window[^1].Id;
            if (lastItem is not null)
            {
                metadata[ThreadMigrator.LastItemMetadataKey] = lastItem;
            }

            metadata[ThreadMigrator.CarriedMetadataKey] = (_alreadyCarried + _carried).ToString(CultureInfo.InvariantCulture);
            await _context.Target.UpdateMetadataAsync(_conversationId, metadata, cancellationToken).ConfigureAwait(false);
            MigrationLog.BatchCarried(Logger, items.Count, _threadId, _conversationId, window[^1].Id);
            Report(MigrationProgressStage.BatchCarried);
        }

        // 7. The thread is fully carried: the key's binding switches to the conversation, in one optimistic save.
        var switched = switchBinding && await SwitchBindingAsync(cancellationToken).ConfigureAwait(false);
        if (_carried > 0)
        {
            await UpdateMappingCountAsync(mappingKey, cancellationToken).ConfigureAwait(false);
        }

        var status = created || mapped.Count > 0 || switched ? ThreadMigrationStatus.Migrated : ThreadMigrationStatus.UpToDate;
        if (status == ThreadMigrationStatus.Migrated)
        {
            MigrationLog.ThreadMigrated(Logger, _threadId, _conversationId, _carried, _alreadyCarried, _notCarried.Count);
        }
        else
        {
            MigrationLog.ThreadUpToDate(Logger, _threadId, _conversationId);
        }

        return Finish(status, created, notRepresentable, switched);
    }

    /// <summary>The new conversation's metadata: the source thread, then as many of the thread's own entries as fit.</summary>
    private Dictionary<string, string> NewConversationMetadata(JsonObject thread)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [ThreadMigrator.SourceThreadMetadataKey] = _threadId };
        var room = MaxMetadataEntries - ReservedMetadataEntries;
        foreach (var (key, value) in (thread["metadata"] as JsonObject ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith("kit_", StringComparison.Ordinal) || value is not JsonValue v || !v.TryGetValue<string>(out var text))
            {
                continue;
            }

            if (room-- > 0)
            {
                metadata[key] = text;
            }
            else
            {
                _notCarried.Add(new NotCarriedContent(NotCarriedKind.ThreadMetadata, null, null, $"thread metadata entry '{key}' (a conversation holds 16 entries, {ReservedMetadataEntries} of them the migration's)"));
            }
        }

        return metadata;
    }

    private async Task<bool> BindingNeedsSwitchAsync(CancellationToken cancellationToken)
    {
        var current = await _context.Store.GetAsync(_key!, AssistantsProtocol.Responses, cancellationToken).ConfigureAwait(false);
        return _conversationId is null || current?.ThreadId != _conversationId;
    }

    /// <summary>
    /// Points the key's Responses binding at the conversation (the binding it had, if any, is kept in
    /// <see cref="ConversationBinding.PreviousThreadIds"/>, followed by the source thread). The Assistants binding is left
    /// as it is. Optimistic: a binding changed meanwhile is read again (three attempts).
    /// </summary>
    private async Task<bool> SwitchBindingAsync(CancellationToken cancellationToken)
    {
        var key = _key!;
        for (var attempt = 1; ; attempt++)
        {
            var current = await _context.Store.GetAsync(key, AssistantsProtocol.Responses, cancellationToken).ConfigureAwait(false);
            if (current?.ThreadId == _conversationId)
            {
                return false;
            }

            if (current is { ActiveRunId: { } activeRun } && !(current.ActiveRunStatus?.IsTerminal() ?? false))
            {
                throw new MigrationConflictException($"The thread is carried, but the Responses binding of '{key}' has a response in flight ({activeRun}) on {current.ThreadId}; run the migration again to switch it when that response has ended.");
            }

            var previous = new List<string>(current?.PreviousThreadIds ?? []);
            if (current is not null && !previous.Contains(current.ThreadId, StringComparer.Ordinal))
            {
                previous.Add(current.ThreadId);
            }

            if (!previous.Contains(_threadId, StringComparer.Ordinal))
            {
                previous.Add(_threadId);
            }

            var binding = (current ?? new ConversationBinding { ConversationKey = key, Protocol = AssistantsProtocol.Responses, ThreadId = _conversationId! }) with
            {
                ThreadId = _conversationId!,
                PreviousThreadIds = previous,
                ActiveRunId = null,
                ActiveRunStatus = null,
                PendingToolCalls = [],
                MessageCount = _alreadyCarried + _carried,
            };
            try
            {
                await _context.Store.SaveAsync(binding, cancellationToken).ConfigureAwait(false);
                MigrationLog.BindingSwitched(Logger, key, _conversationId!, _threadId);
                return true;
            }
            catch (ConversationConcurrencyException) when (attempt < 3)
            {
                MigrationLog.BindingChanged(Logger, key, attempt + 1);
            }
        }
    }

    private async Task UpdateMappingCountAsync(string mappingKey, CancellationToken cancellationToken)
    {
        var mapping = await _context.Store.GetAsync(mappingKey, AssistantsProtocol.Responses, cancellationToken).ConfigureAwait(false);
        if (mapping is null || mapping.ThreadId != _conversationId)
        {
            return;
        }

        try
        {
            await _context.Store.SaveAsync(mapping with { MessageCount = _alreadyCarried + _carried }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConversationConcurrencyException)
        {
            MigrationLog.MappingNotUpdated(Logger, _threadId);
        }
    }

    private ThreadMigrationReport Failed(string error, MigrationEndpoint? endpoint)
    {
        MigrationLog.ThreadFailed(Logger, _threadId, _key, error);
        return Finish(ThreadMigrationStatus.Failed, _created, _notRepresentable, false, error, endpoint);
    }

    private ThreadMigrationReport Finish(
        ThreadMigrationStatus status,
        bool created,
        int notRepresentable,
        bool switched,
        string? error = null,
        MigrationEndpoint? endpoint = null)
    {
        var report = new ThreadMigrationReport
        {
            ConversationKey = _key,
            ThreadId = _threadId,
            ConversationId = _conversationId,
            Status = status,
            DryRun = _options.DryRun,
            ConversationCreated = created,
            MessagesCarried = _carried,
            MessagesAlreadyCarried = _alreadyCarried,
            MessagesNotRepresentable = notRepresentable,
            NotCarried = [.. _notCarried],
            BindingSwitched = switched,
            Error = error,
            EndpointFailure = endpoint,
        };
        Report(MigrationProgressStage.ThreadFinished, report);
        return report;
    }

    private void Report(MigrationProgressStage stage, ThreadMigrationReport? report = null) =>
        _options.Progress?.Report(new MigrationProgress(stage, _index, _count, _key, _threadId, _conversationId, _carried, report));
}
