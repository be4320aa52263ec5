using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Assistants.Kit.Stores.Tests.Sqlite;

/// <summary>What only the SQLite store does: the file, WAL, the schema and its migrations, several processes, registration.</summary>
public sealed class SqliteStoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
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
    public async Task FirstUse_CreatesTheFolderAndFile_InWalMode_AtTheLatestSchemaVersion()
    {
        var path = _directory.File(Path.Combine("nested", "folder", "kit.db"));
        var store = Store(path);
        Assert.False(File.Exists(path));

        await store.SaveAsync(new ConversationBinding { ConversationKey = "k", Protocol = AssistantsProtocol.Assistants, ThreadId = "t" });

        Assert.True(File.Exists(path));
        Assert.Equal("wal", await ScalarAsync(path, "PRAGMA journal_mode;"));
        Assert.Equal(SqliteSchema.LatestVersion.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT MAX(version) FROM assistants_kit_schema;"));
        Assert.Equal("2026-03-04T05:06:07.0000000+00:00", await ScalarAsync(path, "SELECT applied_at FROM assistants_kit_schema WHERE version = 1;"));
    }

    [Fact]
    public async Task ReopeningTheFile_KeepsTheData_AndMigratesNothingAgain()
    {
        var path = _directory.File("kit.db");
        await Store(path).SaveAsync(new ConversationBinding { ConversationKey = "k", Protocol = AssistantsProtocol.Assistants, ThreadId = "t" });

        var reopened = await Store(path).GetAsync("k", AssistantsProtocol.Assistants);

        Assert.Equal("t", reopened!.ThreadId);
        Assert.Equal(SqliteSchema.Migrations.Count.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_schema;"));
    }

    [Fact]
    public async Task ManyInstancesStartingTogetherOnANewFile_MigrateExactlyOnce()
    {
        var path = _directory.File("kit.db");
        var stores = Enumerable.Range(0, 6).Select(_ => Store(path)).ToArray();

        await Task.WhenAll(stores.Select((s, i) => Task.Run(async () => await s.GetAsync($"k{i}", AssistantsProtocol.Assistants))));

        Assert.Equal(SqliteSchema.Migrations.Count.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_schema;"));
    }

    [Fact]
    public async Task AFileWithANewerSchema_IsRefused_NamingBothVersions()
    {
        var path = _directory.File("kit.db");
        await Store(path).GetAsync("k", AssistantsProtocol.Assistants);
        await ScalarAsync(path, "INSERT INTO assistants_kit_schema (version, description, applied_at) VALUES (99, 'from the future', 'now');");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Store(path).GetAsync("k", AssistantsProtocol.Assistants).AsTask());

        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"supports ({SqliteSchema.LatestVersion})", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVersion3File_IsMigratedToFencing_ItsBindingsReadUnfenced_AndAFencedSaveStoresTheToken()
    {
        // A file as the previous release left it: migrations 1-3, one binding.
        var path = _directory.File("kit.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            using var transaction = connection.BeginTransaction();
            foreach (var sql in new[] { SqliteSchema.CreateSchemaTable }.Concat(SqliteSchema.Migrations.Where(m => m.Version <= 3).Select(m => m.Sql)))
            {
                using var step = connection.CreateCommand();
                step.CommandText = sql;
                await step.ExecuteNonQueryAsync();
            }

            using var rows = connection.CreateCommand();
            rows.CommandText =
                "INSERT INTO assistants_kit_schema (version, description, applied_at) VALUES (1, 'a', 'then'), (2, 'b', 'then'), (3, 'c', 'then');" +
                "INSERT INTO assistants_kit_bindings (conversation_key, protocol, thread_id, message_count, created_at, updated_at, version) " +
                "VALUES ('k', 'Assistants', 'thread_old', 3, '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:00.0000000+00:00', 7);";
            await rows.ExecuteNonQueryAsync();
            transaction.Commit();
        }

        var store = Store(path);
        var old = await store.GetAsync("k", AssistantsProtocol.Assistants);

        Assert.Equal(("thread_old", 7L, 0L), (old!.ThreadId, old.Version, old.FencingToken));
        Assert.Equal(SqliteSchema.LatestVersion.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT MAX(version) FROM assistants_kit_schema;"));
        Assert.Equal("fencing tokens of conversation leases", await ScalarAsync(path, "SELECT description FROM assistants_kit_schema WHERE version = 4;"));
        var fenced = await store.SaveAsync(old with { FencingToken = 11 });
        Assert.Equal("11", await ScalarAsync(path, "SELECT fencing_token FROM assistants_kit_bindings WHERE conversation_key = 'k';"));
        await Assert.ThrowsAsync<ConversationFencedException>(() => store.SaveAsync(fenced with { FencingToken = 0 }).AsTask());
    }

    [Fact]
    public async Task AVersion4File_IsMigratedToFileIngestionRecords_KeepingItsBindings_AndRecordsSurviveAReopen()
    {
        // A file as the previous release left it: migrations 1-4, one binding, no ingestion table.
        var path = _directory.File("kit.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            using var transaction = connection.BeginTransaction();
            foreach (var sql in new[] { SqliteSchema.CreateSchemaTable }.Concat(SqliteSchema.Migrations.Where(m => m.Version <= 4).Select(m => m.Sql)))
            {
                using var step = connection.CreateCommand();
                step.CommandText = sql;
                await step.ExecuteNonQueryAsync();
            }

            using var rows = connection.CreateCommand();
            rows.CommandText =
                "INSERT INTO assistants_kit_schema (version, description, applied_at) VALUES (1, 'a', 'then'), (2, 'b', 'then'), (3, 'c', 'then'), (4, 'd', 'then');" +
                "INSERT INTO assistants_kit_bindings (conversation_key, protocol, thread_id, message_count, created_at, updated_at, version, fencing_token) " +
                "VALUES ('k', 'Assistants', 'thread_old', 3, '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:00.0000000+00:00', 7, 5);";
            await rows.ExecuteNonQueryAsync();
            transaction.Commit();
        }

        Assert.Equal("0", await ScalarAsync(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'assistants_kit_file_ingestions';"));
        var ingestions = Ingestions(path);
        Assert.Null(await ingestions.GetAsync("docs", new string('a', 64)));

        Assert.Equal("5", await ScalarAsync(path, "SELECT MAX(version) FROM assistants_kit_schema;"));
        Assert.Equal("file ingestion records|2026-03-04T05:06:07.0000000+00:00", await ScalarAsync(path, "SELECT description || '|' || applied_at FROM assistants_kit_schema WHERE version = 5;"));
        var old = await Store(path).GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Equal(("thread_old", 7L, 5L), (old!.ThreadId, old.Version, old.FencingToken));

        var record = new FileIngestionRecord("docs", new string('a', 64), "file-1", "handbook.md", 42, FileIngestionStatus.Uploaded) { VectorStoreId = "vs_1", CreatedAt = _time.GetUtcNow(), UpdatedAt = _time.GetUtcNow() };
        await ingestions.SaveAsync(record);
        Assert.Equal("file-1|uploaded|vs_1", await ScalarAsync(path, "SELECT file_id || '|' || status || '|' || vector_store_id FROM assistants_kit_file_ingestions;"));
        Assert.Equal(record, await Ingestions(path).GetAsync("docs", record.ContentHash));
        Assert.Equal(SqliteSchema.Migrations.Count.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_schema;"));
    }

    [Fact]
    public async Task AddSqliteStore_RegistersItsFileIngestionStore_BeforeOrAfterAddFiles_AndTheRecordsSurviveARestart()
    {
        var path = _directory.File("kit.db");
        var record = new FileIngestionRecord("docs", new string('a', 64), "file-1", "handbook.md", 42, FileIngestionStatus.Added) { VectorStoreId = "vs_1" };
        foreach (var before in new[] { true, false })
        {
            var services = new ServiceCollection();
            var kit = services.AddAssistantsKit(o => o.ApiKey = "sk-test");
            _ = before ? kit.AddSqliteStore(path).AddFiles() : kit.AddFiles().AddSqliteStore(path);
            await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
            var store = provider.GetRequiredService<IFileIngestionStore>();

            Assert.IsType<SqliteFileIngestionStore>(store);
            if (before)
            {
                await store.SaveAsync(record);
            }
            else
            {
                Assert.Equal(record, await store.GetAsync("docs", record.ContentHash));
            }
        }
    }

    [Fact]
    public async Task ListColumns_AreStoredAsJson()
    {
        var path = _directory.File("kit.db");
        await Store(path).SaveAsync(new ConversationBinding
        {
            ConversationKey = "k",
            Protocol = AssistantsProtocol.Responses,
            ThreadId = "t",
            ActiveRunStatus = RunStatus.RequiresAction,
            PendingToolCalls = [new PendingToolCall("call_1", "lookup", """{"q":"x"}""")],
            PreviousThreadIds = ["t0", "t1"],
        });

        var calls = JsonDocument.Parse((await ScalarAsync(path, "SELECT pending_tool_calls FROM assistants_kit_bindings;"))!).RootElement;
        var previous = JsonDocument.Parse((await ScalarAsync(path, "SELECT previous_thread_ids FROM assistants_kit_bindings;"))!).RootElement;

        Assert.Equal("""[{"id":"call_1","name":"lookup","arguments":"{\u0022q\u0022:\u0022x\u0022}"}]""", calls.GetRawText());
        Assert.Equal(["t0", "t1"], previous.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("RequiresAction", await ScalarAsync(path, "SELECT active_run_status FROM assistants_kit_bindings;"));
        Assert.Equal("Responses", await ScalarAsync(path, "SELECT protocol FROM assistants_kit_bindings;"));
    }

    [Fact]
    public async Task AWriterHoldingTheLock_MakesASaveWait_NotFail()
    {
        var path = _directory.File("kit.db");
        var store = Store(path);
        await store.GetAsync("k", AssistantsProtocol.Assistants);
        using var blocker = new SqliteConnection($"Data Source={path};Pooling=False");
        blocker.Open();
        using var transaction = blocker.BeginTransaction(deferred: false);

        var save = Task.Run(async () => await store.SaveAsync(new ConversationBinding { ConversationKey = "k", Protocol = AssistantsProtocol.Assistants, ThreadId = "t" }));
        var finishedEarly = await Task.WhenAny(save, Task.Delay(300)) == save;
        transaction.Commit();

        Assert.False(finishedEarly, "the save should have waited for the write lock");
        Assert.Equal(1, (await save.WaitAsync(TimeSpan.FromSeconds(30))).Version);
    }

    [Fact]
    public async Task TwoStoreInstances_HammeringOneFileConcurrently_LoseNoUpdate()
    {
        var path = _directory.File("kit.db");
        const int Increments = 150;

        var conflicts = await Task.WhenAll(
            Task.Run(() => SqliteWorker.HammerAsync(Store(path), "a", Increments)),
            Task.Run(() => SqliteWorker.HammerAsync(Store(path), "b", Increments)));

        output.WriteLine($"conflicts retried: {string.Join(", ", conflicts)}");
        await AssertHammeredAsync(path, ["a", "b"], Increments);
    }

    [Fact]
    public async Task TwoOtherOsProcessesAndThisOne_ShareOneNewFile_LoseNoUpdate()
    {
        var path = _directory.File("shared.db");
        const int Increments = 150;
        using var workers = await SqliteWorkerProcesses.StartAsync(path, ["process-1", "process-2"], Increments, SqliteWorker.Command);

        // The file does not exist yet: all three create and migrate it at the same moment.
        Assert.False(File.Exists(path));
        await workers.GoAsync();

        var local = await Task.Run(() => SqliteWorker.HammerAsync(Store(path), "this-process", Increments));
        foreach (var (processId, stdout) in await workers.WaitForExitAsync())
        {
            output.WriteLine($"pid {processId}: {stdout.Trim()}");
        }

        output.WriteLine($"this process: done {local}");
        await AssertHammeredAsync(path, ["process-1", "process-2", "this-process"], Increments);
        Assert.Equal(SqliteSchema.Migrations.Count.ToString(CultureInfo.InvariantCulture), await ScalarAsync(path, "SELECT COUNT(*) FROM assistants_kit_schema;"));
    }

    [Fact]
    public async Task AddSqliteStore_ReplacesTheInMemoryStore_AndUsesTheKitClock()
    {
        var path = _directory.File("kit.db");
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddAssistantsKit().AddSqliteStore(path);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var store = provider.GetRequiredService<IConversationStore>();
        var saved = await store.SaveAsync(new ConversationBinding { ConversationKey = "k", Protocol = AssistantsProtocol.Assistants, ThreadId = "t" });

        Assert.IsType<SqliteConversationStore>(store);
        Assert.Single(services, d => d.ServiceType == typeof(IConversationStore));
        Assert.Equal(_time.GetUtcNow(), saved.UpdatedAt);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void AddSqliteStore_WithOptions_BindsThem()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddSqliteStore(o =>
        {
            o.Path = _directory.File("kit.db");
            o.BusyTimeout = TimeSpan.FromSeconds(5);
        });
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(5), options.BusyTimeout);
        Assert.Contains("Default Timeout=5", provider.GetRequiredService<SqliteDatabase>().ConnectionString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "00:00:30", "SqliteStoreOptions.Path must be the path of a database file (was '')")]
    [InlineData("   ", "00:00:30", "SqliteStoreOptions.Path must be the path of a database file (was '   ')")]
    [InlineData(":memory:", "00:00:30", "in-memory databases and URIs are not supported (was ':memory:')")]
    [InlineData("file:kit.db?mode=ro", "00:00:30", "(was 'file:kit.db?mode=ro')")]
    [InlineData("kit.db", "-00:00:01", "SqliteStoreOptions.BusyTimeout must be between 00:00:00 and 01:00:00 (was -00:00:01)")]
    [InlineData("kit.db", "02:00:00", "(was 02:00:00)")]
    public void InvalidOptions_FailWithAMessageNamingTheValue(string path, string busyTimeout, string expected)
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddSqliteStore(o =>
        {
            o.Path = path;
            o.BusyTimeout = TimeSpan.Parse(busyTimeout, CultureInfo.InvariantCulture);
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConversationStore>());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSqliteStore_WithoutAPath_IsRejectedAtOnce()
    {
        var builder = new ServiceCollection().AddAssistantsKit();

        Assert.ThrowsAny<ArgumentException>(() => builder.AddSqliteStore(" "));
        Assert.Throws<ArgumentNullException>(() => builder.AddSqliteStore((string)null!));
    }

    private SqliteFileIngestionStore Ingestions(string path)
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, _time, NullLogger.Instance);
        _databases.Add(database);
        return new SqliteFileIngestionStore(database);
    }

    private SqliteConversationStore Store(string path)
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, _time, NullLogger.Instance);
        _databases.Add(database);
        return new SqliteConversationStore(database, _time);
    }

    private async Task AssertHammeredAsync(string path, string[] writers, int increments)
    {
        var store = Store(path);
        var shared = await store.GetAsync(SqliteWorker.SharedKey, AssistantsProtocol.Assistants);
        Assert.Equal(writers.Length * increments, shared!.MessageCount);
        Assert.Equal(writers.Length * increments, shared.Version);
        foreach (var writer in writers)
        {
            Assert.Equal(increments, shared.PreviousThreadIds.Count(id => id == writer));
        }

        var listed = new List<ConversationBinding>();
        await foreach (var binding in store.ListAsync())
        {
            listed.Add(binding);
        }

        Assert.Equal((writers.Length * increments) + 1, listed.Count);
    }

    /// <summary>Starts this test assembly as a worker process (see <see cref="Program"/>).</summary>
    internal static Process StartWorker(string path, string id, int increments, string command = SqliteWorker.Command)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { typeof(SqliteWorker).Assembly.Location, command, path, id, increments.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
    }

    /// <summary>Runs a statement on its own connection and returns the first column of the first row as text.</summary>
    internal static async Task<string?> ScalarAsync(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
