using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// Which ledger the kit gets when store packages are registered: theirs replaces the in-memory default and a store
/// registered before, never a ledger the application registered itself; <c>UseAsUsageLedger = false</c> leaves the slot
/// to what it held. Nothing here connects to Redis.
/// </summary>
public sealed class LedgerRegistrationTests : IDisposable
{
    private const string UnreachableRedis = "127.0.0.1:1,abortConnect=false";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void WithoutAStore_TheKitHasTheInMemoryLedger()
    {
        Assert.IsType<InMemoryUsageLedger>(Resolve(_ => { }));
    }

    [Fact]
    public void EachStore_ReplacesTheInMemoryDefault()
    {
        Assert.IsType<SqliteUsageLedger>(Resolve(kit => kit.AddSqliteStore(Path())));
        Assert.IsType<RedisUsageLedger>(Resolve(kit => kit.AddRedisStore(UnreachableRedis)));
    }

    [Fact]
    public void TheStoreRegisteredLast_Wins_AsForConversations()
    {
        Assert.IsType<RedisUsageLedger>(Resolve(kit => kit.AddSqliteStore(Path()).AddRedisStore(UnreachableRedis)));
        Assert.IsType<SqliteUsageLedger>(Resolve(kit => kit.AddRedisStore(UnreachableRedis).AddSqliteStore(Path())));
    }

    [Fact]
    public void AStoreThatOptsOut_LeavesTheLedgerItFound()
    {
        Assert.IsType<SqliteUsageLedger>(Resolve(kit => kit.AddSqliteStore(Path()).AddRedisStore(o =>
        {
            o.ConnectionString = UnreachableRedis;
            o.UseAsUsageLedger = false;
        })));
        Assert.IsType<InMemoryUsageLedger>(Resolve(kit => kit.AddSqliteStore(o =>
        {
            o.Path = Path();
            o.UseAsUsageLedger = false;
        })));
        Assert.IsType<RedisUsageLedger>(Resolve(kit => kit.AddRedisStore(UnreachableRedis).AddSqliteStore(o =>
        {
            o.Path = Path();
            o.UseAsUsageLedger = false;
        })));
    }

    [Fact]
    public void TheOptOut_IsReadFromTheOptions_WhereverTheyAreSet()
    {
        Assert.IsType<InMemoryUsageLedger>(Resolve(kit =>
        {
            kit.AddSqliteStore(Path());
            kit.Services.Configure<SqliteStoreOptions>(o => o.UseAsUsageLedger = false);
        }));
    }

    [Fact]
    public void TheApplicationsOwnLedger_IsNeverReplaced_WhetherRegisteredBeforeOrAfter()
    {
        Assert.IsType<CustomLedger>(Resolve(kit => kit.UseUsageLedger<CustomLedger>().AddSqliteStore(Path())));
        Assert.IsType<CustomLedger>(Resolve(kit => kit.UseUsageLedger<CustomLedger>().AddRedisStore(UnreachableRedis)));
        Assert.IsType<CustomLedger>(Resolve(kit => kit.UseUsageLedger(_ => new CustomLedger()).AddSqliteStore(Path()).AddRedisStore(UnreachableRedis)));
        Assert.IsType<CustomLedger>(Resolve(kit => kit.AddSqliteStore(Path()).UseUsageLedger<CustomLedger>()));
        Assert.IsType<CustomLedger>(Resolve(kit => kit.AddRedisStore(UnreachableRedis).UseUsageLedger(_ => new CustomLedger())));
    }

    [Fact]
    public void AccountingRegisteredAfterTheStore_DoesNotBringBackTheInMemoryLedger()
    {
        var ledger = Resolve(kit => kit.AddSqliteStore(Path()).ConfigureAccounting(o => o.RefuseOnWorstCase = true).AddBudget("monthly", b => b.Limit = 10m));

        Assert.IsType<SqliteUsageLedger>(ledger);
    }

    [Fact]
    public void TheLedger_IsOneSingleton_ForTheKitAndTheStore()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore(UnreachableRedis);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.Same(provider.GetRequiredService<RedisUsageLedger>(), provider.GetRequiredService<IUsageLedger>());
        Assert.Same(provider.GetRequiredService<IUsageLedger>(), provider.GetRequiredService<IUsageLedger>());
        Assert.Single(services, d => d.ServiceType == typeof(IUsageLedger));
    }

    private static IUsageLedger Resolve(Action<IAssistantsKitBuilder> configure)
    {
        var services = new ServiceCollection();
        configure(services.AddAssistantsKit());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return provider.GetRequiredService<IUsageLedger>();
    }

    private string Path() => _directory.File("kit.db");

    /// <summary>A ledger of the application's own.</summary>
    public sealed class CustomLedger : IUsageLedger
    {
        public ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default) => ValueTask.FromResult(UsageTotals.Empty);
    }
}
