using Assistants.Kit.Conversations.Internal.Stores;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>
/// <see cref="IConversationStore"/> on a SQLite file. Every statement is parameterised; a connection is opened per
/// operation (pooled). Saves run in an immediate transaction: an <c>UPDATE … WHERE version = @expected AND
/// fencing_token &lt;= @fencing_token</c> (or an <c>INSERT</c> that does nothing on a key conflict) which, when it touches
/// no row, reads the stored version and fencing token in the same transaction to tell why: a lower fencing token than the
/// stored one is a <see cref="ConversationFencedException"/> (checked first, as the in-memory store does), otherwise the
/// versions differ (<see cref="ConversationConcurrencyException"/>).
/// </summary>
internal sealed class SqliteConversationStore : IConversationStore
{
    private const string Columns =
        "conversation_key, protocol, thread_id, assistant_id, definition_version, active_run_id, active_run_status, " +
        "pending_tool_calls, message_count, created_at, updated_at, previous_thread_ids, version, journal, fencing_token";

    private const string InsertSql =
        "INSERT INTO assistants_kit_bindings (" + Columns + ") VALUES (@key, @protocol, @thread_id, @assistant_id, " +
        "@definition_version, @active_run_id, @active_run_status, @pending_tool_calls, @message_count, @created_at, " +
        "@updated_at, @previous_thread_ids, @version, @journal, @fencing_token) ON CONFLICT (conversation_key, protocol) DO NOTHING;";

    private const string UpdateSql =
        "UPDATE assistants_kit_bindings SET thread_id = @thread_id, assistant_id = @assistant_id, " +
        "definition_version = @definition_version, active_run_id = @active_run_id, active_run_status = @active_run_status, " +
        "pending_tool_calls = @pending_tool_calls, message_count = @message_count, created_at = @created_at, " +
        "updated_at = @updated_at, previous_thread_ids = @previous_thread_ids, version = @version, journal = @journal, " +
        "fencing_token = @fencing_token " +
        "WHERE conversation_key = @key AND protocol = @protocol AND version = @expected_version AND fencing_token <= @fencing_token;";

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _timeProvider;

    public SqliteConversationStore(SqliteDatabase database, TimeProvider timeProvider)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
    }

    public async ValueTask<ConversationBinding?> GetAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "SELECT " + Columns + " FROM assistants_kit_bindings WHERE conversation_key = @key AND protocol = @protocol;",
            ("@key", conversationKey),
            ("@protocol", ProtocolText(protocol)));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadBinding(reader) : null;
    }

    public async ValueTask<ConversationBinding> SaveAsync(ConversationBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentException.ThrowIfNullOrEmpty(binding.ConversationKey);
        ArgumentNullException.ThrowIfNull(binding.ThreadId);
        var now = _timeProvider.GetUtcNow();
        var stored = binding.Version == 0
            ? binding with { Version = 1, UpdatedAt = now, CreatedAt = binding.CreatedAt == default ? now : binding.CreatedAt }
            : binding with { Version = binding.Version + 1, UpdatedAt = now };

        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int rows;
        using (var write = SqliteDatabase.Command(
            connection,
            transaction,
            binding.Version == 0 ? InsertSql : UpdateSql,
            ("@key", stored.ConversationKey),
            ("@protocol", ProtocolText(stored.Protocol)),
            ("@thread_id", stored.ThreadId),
            ("@assistant_id", stored.AssistantId),
            ("@definition_version", stored.DefinitionVersion),
            ("@active_run_id", stored.ActiveRunId),
            ("@active_run_status", stored.ActiveRunStatus?.ToString()),
            ("@pending_tool_calls", ToolCallsJson(stored.PendingToolCalls)),
            ("@message_count", stored.MessageCount),
            ("@created_at", TimeText(stored.CreatedAt)),
            ("@updated_at", TimeText(stored.UpdatedAt)),
            ("@previous_thread_ids", JsonSerializer.Serialize([.. stored.PreviousThreadIds ?? []], SqliteJsonContext.Default.StringArray)),
            ("@version", stored.Version),
            ("@journal", stored.Journal is null ? null : JsonSerializer.Serialize(stored.Journal, SqliteJsonContext.Default.RunJournal)),
            ("@fencing_token", stored.FencingToken),
            ("@expected_version", binding.Version)))
        {
            rows = await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (rows == 0)
        {
            // Nothing written: read why in the same transaction (the row cannot change meanwhile).
            long actualVersion = 0;
            long? storedFence = null;
            using (var read = SqliteDatabase.Command(
                connection,
                transaction,
                "SELECT version, fencing_token FROM assistants_kit_bindings WHERE conversation_key = @key AND protocol = @protocol;",
                ("@key", binding.ConversationKey),
                ("@protocol", ProtocolText(binding.Protocol))))
            {
                using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    actualVersion = reader.GetInt64(0);
                    storedFence = reader.GetInt64(1);
                }
            }

            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            if (storedFence is { } fence && binding.FencingToken < fence)
            {
                throw new ConversationFencedException(binding.ConversationKey, binding.FencingToken, fence);
            }

            throw new ConversationConcurrencyException(binding.ConversationKey, binding.Protocol, binding.Version, actualVersion);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return stored;
    }

    public async ValueTask<bool> DeleteAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "DELETE FROM assistants_kit_bindings WHERE conversation_key = @key AND protocol = @protocol;",
            ("@key", conversationKey),
            ("@protocol", ProtocolText(protocol)));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async IAsyncEnumerable<ConversationBinding> ListAsync(AssistantsProtocol? protocol = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);

        // SQLite's BINARY collation orders by UTF-8 bytes, which differs from ordinal UTF-16 order for characters beyond
        // U+FFFF; the kit's contract is StringComparer.Ordinal, so the list query sorts with that.
        connection.CreateCollation(SqliteDatabase.OrdinalCollation, string.CompareOrdinal);
        using var command = protocol is { } p
            ? SqliteDatabase.Command(
                connection,
                null,
                "SELECT " + Columns + " FROM assistants_kit_bindings WHERE protocol = @protocol ORDER BY conversation_key COLLATE " + SqliteDatabase.OrdinalCollation + ";",
                ("@protocol", ProtocolText(p)))
            : SqliteDatabase.Command(
                connection,
                null,
                "SELECT " + Columns + " FROM assistants_kit_bindings ORDER BY conversation_key COLLATE " + SqliteDatabase.OrdinalCollation + ", protocol;");
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return ReadBinding(reader);
        }
    }

    public async ValueTask<AssistantRecord?> GetAssistantAsync(string name, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "SELECT assistant_id, definition_version, updated_at FROM assistants_kit_assistants WHERE name = @name AND protocol = @protocol;",
            ("@name", name),
            ("@protocol", ProtocolText(protocol)));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new AssistantRecord(name, protocol, reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2)));
    }

    public async ValueTask SaveAssistantAsync(AssistantRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrEmpty(record.Name);
        ArgumentNullException.ThrowIfNull(record.AssistantId);
        ArgumentNullException.ThrowIfNull(record.DefinitionVersion);
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteDatabase.Command(
            connection,
            null,
            "INSERT INTO assistants_kit_assistants (name, protocol, assistant_id, definition_version, updated_at) " +
            "VALUES (@name, @protocol, @assistant_id, @definition_version, @updated_at) " +
            "ON CONFLICT (name, protocol) DO UPDATE SET assistant_id = excluded.assistant_id, " +
            "definition_version = excluded.definition_version, updated_at = excluded.updated_at;",
            ("@name", record.Name),
            ("@protocol", ProtocolText(record.Protocol)),
            ("@assistant_id", record.AssistantId),
            ("@definition_version", record.DefinitionVersion),
            ("@updated_at", TimeText(record.UpdatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static ConversationBinding ReadBinding(SqliteDataReader reader) => new()
    {
        ConversationKey = reader.GetString(0),
        Protocol = Enum.Parse<AssistantsProtocol>(reader.GetString(1)),
        ThreadId = reader.GetString(2),
        AssistantId = reader.IsDBNull(3) ? null : reader.GetString(3),
        DefinitionVersion = reader.IsDBNull(4) ? null : reader.GetString(4),
        ActiveRunId = reader.IsDBNull(5) ? null : reader.GetString(5),
        ActiveRunStatus = reader.IsDBNull(6) ? null : Enum.Parse<RunStatus>(reader.GetString(6)),
        PendingToolCalls = [.. (JsonSerializer.Deserialize(reader.GetString(7), SqliteJsonContext.Default.StoredToolCallArray) ?? [])
            .Select(static c => c.ToPendingToolCall())],
        MessageCount = reader.GetInt32(8),
        CreatedAt = ParseTime(reader.GetString(9)),
        UpdatedAt = ParseTime(reader.GetString(10)),
        PreviousThreadIds = JsonSerializer.Deserialize(reader.GetString(11), SqliteJsonContext.Default.StringArray) ?? [],
        Version = reader.GetInt64(12),
        Journal = reader.IsDBNull(13) ? null : JsonSerializer.Deserialize(reader.GetString(13), SqliteJsonContext.Default.RunJournal),
        FencingToken = reader.GetInt64(14),
    };

    private static string ProtocolText(AssistantsProtocol protocol) => protocol.ToString();

    private static string ToolCallsJson(IReadOnlyList<PendingToolCall>? calls) =>
        JsonSerializer.Serialize([.. (calls ?? []).Select(StoredToolCall.From)], SqliteJsonContext.Default.StoredToolCallArray);

    // The round-trip format keeps the ticks and the offset, so a value reads back equal to what was written.
    private static string TimeText(DateTimeOffset value) => value.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
