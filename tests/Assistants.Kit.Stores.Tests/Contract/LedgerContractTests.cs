using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>The ledger contract against the core's in-memory ledger: the reference semantics the durable ledgers must match.</summary>
public sealed class InMemoryLedgerContractTests : UsageLedgerContract
{
    private InMemoryUsageLedger? _ledger;

    protected override IUsageLedger OpenLedger() => LazyInitializer.EnsureInitialized(ref _ledger, static () => new InMemoryUsageLedger());
}

/// <summary>The ledger contract against SQLite: a real database file in a temp folder; each ledger instance has its own <see cref="SqliteDatabase"/>.</summary>
public sealed class SqliteLedgerContractTests : UsageLedgerContract
{
    private readonly TempDirectory _directory = new();
    private readonly List<SqliteDatabase> _databases = [];

    protected override IUsageLedger OpenLedger()
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = _directory.File("kit.db") }, Time, NullLogger.Instance);
        _databases.Add(database);
        return new SqliteUsageLedger(database);
    }

    public override Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }

        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The ledger contract against Redis (<c>ASSISTANTS_KIT_REDIS</c>): each test writes under its own key prefix, deleted
/// afterwards; each ledger instance has its own <see cref="RedisConnection"/> over the shared test multiplexer.
/// </summary>
[RequiresRedis]
public sealed class RedisLedgerContractTests : UsageLedgerContract
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    protected override IUsageLedger OpenLedger() =>
        new RedisUsageLedger(
            new RedisConnection(new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix }, NullLogger.Instance),
            Time,
            NullLogger.Instance);

    public override Task DisposeAsync() => RedisServer.SkipReason is null ? RedisKeys.DeleteAsync(_prefix) : Task.CompletedTask;
}

/// <summary>
/// The ledger contract against Redis with hourly rollups used by every total they can serve (a threshold of 0 entries
/// instead of hundreds), so windowed totals of one dimension go through rollups, cold and then warm.
/// </summary>
[RequiresRedis]
public sealed class RedisRolledUpLedgerContractTests : UsageLedgerContract
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    protected override IUsageLedger OpenLedger() =>
        new RedisUsageLedger(
            new RedisConnection(new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix }, NullLogger.Instance),
            Time,
            NullLogger.Instance)
        {
            RollupThreshold = 0,
        };

    public override Task DisposeAsync() => RedisServer.SkipReason is null ? RedisKeys.DeleteAsync(_prefix) : Task.CompletedTask;
}
