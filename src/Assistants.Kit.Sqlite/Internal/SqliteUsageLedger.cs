using Assistants.Kit.Conversations.Internal.Stores;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>
/// <see cref="IUsageLedger"/> on the SQLite file of the store (schema version 2, see <see cref="SqliteSchema"/>). An
/// append inserts the entry's row and its tag rows in one immediate transaction, so it is all or nothing and safe
/// with other connections and processes (WAL, busy timeout). Totals are one parameterised aggregate query over the
/// window: the integer counters are summed by SQLite, the decimals by the <c>assistants_kit_decimal_sum</c> aggregate
/// registered on the connection (exact <see cref="decimal"/> addition), and every filter of <see cref="UsageQuery"/>
/// is a condition in the same statement.
/// </summary>
internal sealed class SqliteUsageLedger : IUsageLedger
{
    /// <summary>The aggregate that adds decimal TEXT values exactly.</summary>
    public const string DecimalSum = "assistants_kit_decimal_sum";

    /// <summary>The function that decides a model filter by <see cref="UsageQuery.Matches"/>.</summary>
    public const string ModelMatches = "assistants_kit_model_matches";

    private const string InsertSql =
        "INSERT INTO assistants_kit_usage (timestamp_ticks, timestamp, kind, conversation_key, thread_id, run_id, " +
        "assistant_id, assistant_name, model, model_fold, model_family_fold, input_tokens, output_tokens, " +
        "cached_input_tokens, reasoning_tokens, token_cost, tool_cost, code_interpreter_sessions, file_search_calls, " +
        "vector_store_id, vector_storage_gb_days) VALUES (@timestamp_ticks, @timestamp, @kind, @conversation_key, " +
        "@thread_id, @run_id, @assistant_id, @assistant_name, @model, @model_fold, @model_family_fold, @input_tokens, " +
        "@output_tokens, @cached_input_tokens, @reasoning_tokens, @token_cost, @tool_cost, @code_interpreter_sessions, " +
        "@file_search_calls, @vector_store_id, @vector_storage_gb_days) RETURNING id;";

    private const string InsertTagSql =
        "INSERT INTO assistants_kit_usage_tags (usage_id, name, value) VALUES (@usage_id, @name, @value);";

    private const string TotalsSql =
        "SELECT COUNT(*), COALESCE(SUM(u.input_tokens), 0), COALESCE(SUM(u.output_tokens), 0), " +
        "COALESCE(SUM(u.cached_input_tokens), 0), COALESCE(SUM(u.reasoning_tokens), 0), " +
        DecimalSum + "(COALESCE(u.token_cost, '0')), " + DecimalSum + "(u.tool_cost), " +
        "COALESCE(SUM(u.token_cost IS NULL), 0), COALESCE(SUM(u.code_interpreter_sessions), 0), " +
        "COALESCE(SUM(u.file_search_calls), 0), " + DecimalSum + "(u.vector_storage_gb_days) " +
        "FROM assistants_kit_usage AS u";

    private readonly SqliteDatabase _database;

    public SqliteUsageLedger(SqliteDatabase database)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
    }

    public async ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        var tags = entry.Tags ?? UsageEntryTags.Empty;
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long id;
        using (var insert = SqliteDatabase.Command(
            connection,
            transaction,
            InsertSql,
            ("@timestamp_ticks", entry.Timestamp.UtcTicks),
            ("@timestamp", entry.Timestamp.ToString("O", CultureInfo.InvariantCulture)),
            ("@kind", entry.Kind.ToString()),
            ("@conversation_key", entry.ConversationKey),
            ("@thread_id", entry.ThreadId),
            ("@run_id", entry.RunId),
            ("@assistant_id", entry.AssistantId),
            ("@assistant_name", entry.AssistantName),
            ("@model", entry.Model),
            ("@model_fold", UsageModelFold.FoldModel(entry.Model)),
            ("@model_family_fold", UsageModelFold.FoldFamily(entry.Model)),
            ("@input_tokens", entry.Usage.InputTokens),
            ("@output_tokens", entry.Usage.OutputTokens),
            ("@cached_input_tokens", entry.Usage.CachedInputTokens),
            ("@reasoning_tokens", entry.Usage.ReasoningTokens),
            ("@token_cost", entry.TokenCost is { } tokenCost ? DecimalText(tokenCost) : null),
            ("@tool_cost", DecimalText(entry.ToolCost)),
            ("@code_interpreter_sessions", entry.CodeInterpreterSessions),
            ("@file_search_calls", entry.FileSearchCalls),
            ("@vector_store_id", entry.VectorStoreId),
            ("@vector_storage_gb_days", DecimalText(entry.VectorStorageGigabyteDays))))
        {
            id = Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        if (tags.Count > 0)
        {
            using var insertTag = SqliteDatabase.Command(connection, transaction, InsertTagSql, ("@usage_id", id), ("@name", null), ("@value", null));
            foreach (var (name, value) in tags)
            {
                insertTag.Parameters["@name"].Value = name;
                insertTag.Parameters["@value"].Value = value;
                await insertTag.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        RegisterFunctions(connection, query);
        using var command = BuildTotalsCommand(connection, query);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return UsageTotals.Empty;
        }

        return new UsageTotals
        {
            Entries = reader.GetInt64(0),
            Usage = new TokenUsage(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)),
            Cost = ParseDecimal(reader.GetString(5)) + ParseDecimal(reader.GetString(6)),
            UnpricedEntries = reader.GetInt64(7),
            CodeInterpreterSessions = reader.GetInt64(8),
            FileSearchCalls = reader.GetInt64(9),
            VectorStorageGigabyteDays = ParseDecimal(reader.GetString(10)),
        };
    }

    /// <summary>Registers on a connection the aggregate and the function the totals statement of a query uses.</summary>
    internal static void RegisterFunctions(SqliteConnection connection, UsageQuery query)
    {
        connection.CreateAggregate<string, decimal, string>(
            DecimalSum,
            0m,
            static (sum, value) => sum + ParseDecimal(value),
            static sum => DecimalText(sum),
            isDeterministic: true);
        if (query.Model is { } model)
        {
            var modelOnly = new UsageQuery { Model = model };
            connection.CreateFunction<string?, bool>(ModelMatches, entryModel => UsageModelFold.Matches(modelOnly, entryModel), isDeterministic: true);
        }
    }

    /// <summary>
    /// Builds the totals statement: fixed SQL fragments joined by <c>AND</c>, one per filter the query sets, every value
    /// a parameter. Internal so tests can look at the plan SQLite makes of it.
    /// </summary>
    internal static SqliteCommand BuildTotalsCommand(SqliteConnection connection, UsageQuery query)
    {
        var sql = new StringBuilder(TotalsSql);
        var parameters = new List<(string Name, object? Value)>();
        var conditions = 0;
        void Where(string condition)
        {
            sql.Append(conditions++ == 0 ? " WHERE " : " AND ").Append(condition);
        }

        if (query.From is { } from)
        {
            Where("u.timestamp_ticks >= @from");
            parameters.Add(("@from", from.UtcTicks));
        }

        if (query.To is { } to)
        {
            Where("u.timestamp_ticks < @to");
            parameters.Add(("@to", to.UtcTicks));
        }

        if (query.Kind is { } kind)
        {
            Where("u.kind = @kind");
            parameters.Add(("@kind", kind.ToString()));
        }

        if (query.ConversationKey is { } key)
        {
            Where("u.conversation_key = @conversation_key");
            parameters.Add(("@conversation_key", key));
        }

        if (query.ThreadId is { } thread)
        {
            Where("u.thread_id = @thread_id");
            parameters.Add(("@thread_id", thread));
        }

        if (query.RunId is { } run)
        {
            Where("u.run_id = @run_id");
            parameters.Add(("@run_id", run));
        }

        if (query.AssistantId is { } assistant)
        {
            Where("u.assistant_id = @assistant_id");
            parameters.Add(("@assistant_id", assistant));
        }

        if (query.Model is { } model)
        {
            // The folds narrow by index (exact for an ASCII query model); the function, UsageQuery.Matches itself, decides.
            if (UsageModelFold.IsFoldable(model))
            {
                Where("(u.model_fold = @model_fold OR u.model_family_fold = @model_fold)");
                parameters.Add(("@model_fold", UsageModelFold.Fold(model)));
            }

            Where(ModelMatches + "(u.model)");
        }

        if (query.Tags is { } tags)
        {
            var i = 0;
            foreach (var (name, value) in tags)
            {
                var n = i++.ToString(CultureInfo.InvariantCulture);
                Where($"u.id IN (SELECT t.usage_id FROM assistants_kit_usage_tags AS t WHERE t.name = @tag_name_{n} AND t.value = @tag_value_{n})");
                parameters.Add(($"@tag_name_{n}", name));
                parameters.Add(($"@tag_value_{n}", value));
            }
        }

        sql.Append(';');
        return SqliteDatabase.Command(connection, null, sql.ToString(), [.. parameters]);
    }

    // Invariant culture, no exponent, every digit of the value (including its scale): parses back to the same decimal.
    private static string DecimalText(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static decimal ParseDecimal(string text) => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>The tags of an entry that has none.</summary>
internal static class UsageEntryTags
{
    public static IReadOnlyDictionary<string, string> Empty { get; } = new Dictionary<string, string>(StringComparer.Ordinal).AsReadOnly();
}
