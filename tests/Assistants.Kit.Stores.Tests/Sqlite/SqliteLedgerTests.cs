using System.Diagnostics;
using System.Globalization;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Assistants.Kit.Stores.Tests.Sqlite;

/// <summary>What only the SQLite ledger does: its migration, how it stores amounts and tags, its indexes, several processes, registration.</summary>
public sealed class SqliteLedgerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly List<SqliteDatabase> _databases = [];

    public void Dispose()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task AVersionOneFile_IsMigratedToTheLedgerSchema_AndKeepsItsBindings()
    {
        var path = _directory.File("v1.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = SqliteSchema.CreateSchemaTable + SqliteSchema.Migrations[0].Sql + """
                INSERT INTO assistants_kit_schema (version, description, applied_at) VALUES (1, 'conversation bindings and assistant records', '2026-01-01T00:00:00.0000000+00:00');
                INSERT INTO assistants_kit_bindings (conversation_key, protocol, thread_id, created_at, updated_at, version)
                VALUES ('order-1', 'Assistants', 'thread_1', '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:00.0000000+00:00', 3);
                """;
            await command.ExecuteNonQueryAsync();
        }

        var database = Database(path);
        await new SqliteUsageLedger(database).AppendAsync(new UsageEntry { Timestamp = Now, ConversationKey = "order-1", TokenCost = 0.5m });

        var binding = await new SqliteConversationStore(database, _time).GetAsync("order-1", AssistantsProtocol.Assistants);
        Assert.Equal(("thread_1", 3L), (binding!.ThreadId, binding.Version));
        Assert.Equal(Assistants.Kit.Sqlite.Internal.SqliteSchema.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), await SqliteStoreTests.ScalarAsync(path, "SELECT MAX(version) FROM assistants_kit_schema;"));
        Assert.Equal("usage ledger|2026-03-14T15:09:26.0000000+00:00", await SqliteStoreTests.ScalarAsync(path, "SELECT description || '|' || applied_at FROM assistants_kit_schema WHERE version = 2;"));
        Assert.Equal(0.5m, (await new SqliteUsageLedger(Database(path)).GetTotalsAsync(new UsageQuery { ConversationKey = "order-1" })).Cost);
    }

    [Fact]
    public async Task AnEntry_IsOneRow_WithAmountsAsExactText_TheInstantAsUtcTicks_AndTagsAsRows()
    {
        var path = _directory.File("kit.db");
        var ledger = new SqliteUsageLedger(Database(path));
        var timestamp = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.FromHours(-4)).AddTicks(1234567);
        await ledger.AppendAsync(new UsageEntry
        {
            Timestamp = timestamp,
            ConversationKey = "order-1",
            ThreadId = "thread_1",
            RunId = "run_1",
            AssistantId = "asst_1",
            AssistantName = "Support",
            Model = "gpt-4.1-mini-2025-04-14",
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "acme", ["feature"] = "refunds" },
            Usage = new TokenUsage(10, 20, 5, 7),
            TokenCost = 0.000000123m,
            ToolCost = 0.0300m,
            CodeInterpreterSessions = 1,
            FileSearchCalls = 2,
        });
        await ledger.AppendAsync(new UsageEntry { Timestamp = Now, Kind = UsageEntryKind.VectorStorage, VectorStoreId = "vs_1", VectorStorageGigabyteDays = 1.25m, ToolCost = 0.125m });

        Assert.Equal(
            "order-1|thread_1|run_1|asst_1|Support|Run|gpt-4.1-mini-2025-04-14|GPT-4.1-MINI-2025-04-14|GPT-4.1-MINI|10|20|5|7|1|2",
            await SqliteStoreTests.ScalarAsync(path, "SELECT conversation_key || '|' || thread_id || '|' || run_id || '|' || assistant_id || '|' || assistant_name || '|' || kind || '|' || model || '|' || model_fold || '|' || model_family_fold || '|' || input_tokens || '|' || output_tokens || '|' || cached_input_tokens || '|' || reasoning_tokens || '|' || code_interpreter_sessions || '|' || file_search_calls FROM assistants_kit_usage WHERE id = 1;"));
        Assert.Equal("text:0.000000123|text:0.0300|text:0", await SqliteStoreTests.ScalarAsync(path, "SELECT typeof(token_cost) || ':' || token_cost || '|' || typeof(tool_cost) || ':' || tool_cost || '|' || typeof(vector_storage_gb_days) || ':' || vector_storage_gb_days FROM assistants_kit_usage WHERE id = 1;"));
        Assert.Equal(
            $"{timestamp.UtcTicks}|2026-03-14T10:00:00.1234567-04:00",
            await SqliteStoreTests.ScalarAsync(path, "SELECT timestamp_ticks || '|' || timestamp FROM assistants_kit_usage WHERE id = 1;"));
        Assert.Equal("feature=refunds,tenant=acme", await SqliteStoreTests.ScalarAsync(path, "SELECT group_concat(name || '=' || value, ',' ORDER BY name) FROM assistants_kit_usage_tags WHERE usage_id = 1;"));
        Assert.Equal("VectorStorage|vs_1|text:1.25|1", await SqliteStoreTests.ScalarAsync(path, "SELECT kind || '|' || vector_store_id || '|' || typeof(vector_storage_gb_days) || ':' || vector_storage_gb_days || '|' || (token_cost IS NULL) FROM assistants_kit_usage WHERE id = 2;"));
        Assert.Equal("0", await SqliteStoreTests.ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_usage_tags WHERE usage_id = 2;"));
    }

    [Fact]
    public async Task EveryFilter_IsServedByAnIndex()
    {
        var path = _directory.File("kit.db");
        var ledger = new SqliteUsageLedger(Database(path));
        await ledger.AppendAsync(new UsageEntry { Timestamp = Now });
        var window = UsageQuery.In(UsageWindow.For(BudgetPeriod.Month, Now));
        (UsageQuery Query, string[] Indexes)[] cases =
        [
            (window, ["assistants_kit_usage_by_time"]),
            (window with { ConversationKey = "k" }, ["assistants_kit_usage_by_key"]),
            (new UsageQuery { ConversationKey = "k" }, ["assistants_kit_usage_by_key"]),
            (window with { ThreadId = "t" }, ["assistants_kit_usage_by_thread"]),
            (new UsageQuery { RunId = "r" }, ["assistants_kit_usage_by_run"]),
            (window with { AssistantId = "a" }, ["assistants_kit_usage_by_assistant"]),
            (window with { Model = "gpt-4.1-mini" }, ["assistants_kit_usage_by_model", "assistants_kit_usage_by_model_family"]),
            (window with { Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "acme" } }, ["assistants_kit_usage_tags_by_value"]),
        ];

        using var connection = await Database(path).OpenAsync(CancellationToken.None);
        foreach (var (query, indexes) in cases)
        {
            SqliteUsageLedger.RegisterFunctions(connection, query);
            using var command = SqliteUsageLedger.BuildTotalsCommand(connection, query);
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            var plan = new List<string>();
            using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(3));
                }
            }

            output.WriteLine($"{query}: {string.Join(" / ", plan)}");
            Assert.All(indexes, index => Assert.Contains(plan, step => step.Contains(index, StringComparison.Ordinal)));
            Assert.DoesNotContain(plan, step => step.StartsWith("SCAN u", StringComparison.Ordinal) && !step.Contains("INDEX", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task TwoOtherOsProcessesAndThisOne_AppendToOneNewFile_LoseNothing()
    {
        var path = _directory.File("shared.db");
        const int Count = 300;
        using var workers = await SqliteWorkerProcesses.StartAsync(path, ["process-1", "process-2"], Count, SqliteWorker.LedgerCommand);
        Assert.False(File.Exists(path));
        await workers.GoAsync();

        var ledger = new SqliteUsageLedger(Database(path));
        await Task.Run(() => SqliteWorker.AppendAsync(ledger, "this-process", Count));
        await workers.WaitForExitAsync();

        var all = await ledger.GetTotalsAsync(new UsageQuery());
        Assert.Equal((3L * Count, 3 * Count * 0.000001m, 3L * Count * (Count + 1) / 2), (all.Entries, all.Cost, all.Usage.InputTokens));
        foreach (var id in new[] { "process-1", "process-2", "this-process" })
        {
            var mine = await ledger.GetTotalsAsync(new UsageQuery { ConversationKey = id, Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["writer"] = id, ["parity"] = "1" } });
            Assert.Equal((Count / 2L, Count / 2 * 0.000001m), (mine.Entries, mine.Cost));
        }

        Assert.Equal(SqliteSchema.Migrations.Count.ToString(CultureInfo.InvariantCulture), await SqliteStoreTests.ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_schema;"));
    }

    [Fact]
    public async Task AWriterHoldingTheLock_MakesAnAppendWait_NotFail()
    {
        var path = _directory.File("kit.db");
        var ledger = new SqliteUsageLedger(Database(path));
        await ledger.GetTotalsAsync(new UsageQuery());
        using var blocker = new SqliteConnection($"Data Source={path};Pooling=False");
        blocker.Open();
        using var transaction = blocker.BeginTransaction(deferred: false);

        var append = Task.Run(async () => await ledger.AppendAsync(new UsageEntry { Timestamp = Now, TokenCost = 1m }));
        var finishedEarly = await Task.WhenAny(append, Task.Delay(300)) == append;
        var totalsWhileLocked = await ledger.GetTotalsAsync(new UsageQuery()).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        transaction.Commit();

        Assert.False(finishedEarly, "the append should have waited for the write lock");
        Assert.Equal(0, totalsWhileLocked.Entries);
        await append.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1m, (await ledger.GetTotalsAsync(new UsageQuery())).Cost);
    }

    [Fact]
    public void AddSqliteStore_MakesItsLedgerTheKitsLedger()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddAssistantsKit().AddSqliteStore(_directory.File("kit.db"));
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var ledger = provider.GetRequiredService<IUsageLedger>();

        Assert.IsType<SqliteUsageLedger>(ledger);
        Assert.Same(provider.GetRequiredService<SqliteUsageLedger>(), ledger);
        Assert.Single(services, d => d.ServiceType == typeof(IUsageLedger));
    }

    [Fact]
    public void UseAsUsageLedgerFalse_KeepsTheInMemoryLedger()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddSqliteStore(o =>
        {
            o.Path = _directory.File("kit.db");
            o.UseAsUsageLedger = false;
        });
        using var provider = services.BuildServiceProvider();

        Assert.IsType<InMemoryUsageLedger>(provider.GetRequiredService<IUsageLedger>());
        Assert.IsType<SqliteConversationStore>(provider.GetRequiredService<IConversationStore>());
    }

    private SqliteDatabase Database(string path)
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, _time, NullLogger.Instance);
        _databases.Add(database);
        return database;
    }
}
