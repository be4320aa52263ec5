using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>The contract against the core's in-memory store: the reference semantics the durable stores must match.</summary>
public sealed class InMemoryStoreContractTests : ConversationStoreContract
{
    private InMemoryConversationStore? _store;

    protected override IConversationStore OpenStore() => _store ??= new InMemoryConversationStore(Time);
}

/// <summary>The contract against SQLite: a real database file in a temp folder; each store instance has its own <see cref="SqliteDatabase"/>.</summary>
public sealed class SqliteStoreContractTests : ConversationStoreContract
{
    private readonly TempDirectory _directory = new();
    private readonly List<SqliteDatabase> _databases = [];

    protected override IConversationStore OpenStore()
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = _directory.File("kit.db") }, Time, NullLogger.Instance);
        _databases.Add(database);
        return new SqliteConversationStore(database, Time);
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
/// The contract against Redis (<c>ASSISTANTS_KIT_REDIS</c>): each test writes under its own key prefix, deleted afterwards;
/// each store instance has its own <see cref="RedisConnection"/> over the shared test multiplexer.
/// </summary>
[RequiresRedis]
public sealed class RedisStoreContractTests : ConversationStoreContract
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    protected override IConversationStore OpenStore() =>
        new RedisConversationStore(
            new RedisConnection(new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix }, NullLogger.Instance),
            Time);

    public override Task DisposeAsync() => RedisKeys.DeleteAsync(_prefix);
}
