using System.ClientModel;
using Assistants.Kit.Migrate;
using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Assistants.Kit.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI.Assistants;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>
/// <c>assistants-kit-migrate --all --store redis:…</c>, run in-process against two emulators (each demanding its own
/// key) and the real Redis server (<c>ASSISTANTS_KIT_REDIS</c>): the bindings are read from, and the mappings and
/// switched bindings written to, the store under the given key prefix only.
/// </summary>
public sealed class MigrateRedisStoreTests : IAsyncLifetime
{
    private const string SourceKey = "sk-source-0123456789SOURCESECRET";
    private const string TargetKey = "sk-target-0123456789TARGETSECRET";

    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";
    private readonly string _otherPrefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
            await RedisKeys.DeleteAsync(_otherPrefix);
        }
    }

    [RedisFact]
    public async Task All_WithARedisStore_MigratesEveryBindingUnderThePrefix_RecordsTheMappingsThere_AndAReRunIsUpToDate()
    {
        await using var source = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = SourceKey });
        await using var target = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = TargetKey });
        var client = new AssistantClient(new ApiKeyCredential(SourceKey), new AssistantClientOptions { Endpoint = source.BaseUri });
        var first = await CreateThreadAsync(client, "Where is order 42?", "Thanks");
        var second = await CreateThreadAsync(client, "Refund please");
        var other = await CreateThreadAsync(client, "Another app's customer");
        var store = Store(_prefix);
        await store.SaveAsync(Assistants("customer-1", first));
        await store.SaveAsync(Assistants("customer-2", second));
        await Store(_otherPrefix).SaveAsync(Assistants("customer-3", other)); // another app on the same server

        var (exit, stdout, stderr) = await RunAsync(source, target, "--all", "--store", $"redis:{RedisServer.ConnectionString},prefix={_prefix}");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr + stdout);
        Assert.Matches($@"\ncustomer-1\s+{first}\s+conv_\w+\s+migrated\s+2\s+0\s+0\s+Responses binding switched", "\n" + stdout);
        Assert.Matches($@"\ncustomer-2\s+{second}\s+conv_\w+\s+migrated\s+1\s+0\s+0\s+Responses binding switched", "\n" + stdout);
        Assert.DoesNotContain("customer-3", stdout, StringComparison.Ordinal);
        Assert.Contains($"(prefix {_prefix})", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", stdout + stderr, StringComparison.Ordinal);

        var switched = await store.GetAsync("customer-1", AssistantsProtocol.Responses);
        Assert.StartsWith("conv_", switched!.ThreadId, StringComparison.Ordinal);
        Assert.Equal([first], switched.PreviousThreadIds);
        Assert.NotNull(await store.GetAsync($"kit-migration:{first}", AssistantsProtocol.Responses)); // the mapping, in Redis
        Assert.Null(await Store(_otherPrefix).GetAsync("customer-3", AssistantsProtocol.Responses));
        Assert.Equal(2, target.Requests.Count("POST", "/conversations"));

        target.Requests.Clear();
        var (again, rerun, _) = await RunAsync(source, target, "--all", "--store", $"redis:{RedisServer.ConnectionString},prefix={_prefix}");

        Assert.Equal(MigrateCommand.ExitSucceeded, again);
        Assert.Contains("2 threads: 0 migrated, 2 up to date, 0 failed, 0 not attempted; 0 messages carried.", rerun, StringComparison.Ordinal);
        Assert.Empty(target.Requests.Where(r => r.Method != "GET"));
    }

    [Fact]
    public async Task UnreachableRedisStore_Exits3_NamingTheStore()
    {
        await using var source = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = SourceKey });
        await using var target = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { ApiKey = TargetKey });

        var (exit, stdout, stderr) = await RunAsync(source, target, "--all", "--store", "redis:127.0.0.1:1,connectTimeout=500,password=REDISSECRET");

        Assert.Equal(MigrateCommand.ExitUnreachable, exit);
        Assert.Contains("error: the Redis store redis:127.0.0.1:1 (prefix assistants-kit:) is unreachable", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", stdout + stderr, StringComparison.Ordinal);
        Assert.Empty(target.Requests.All);
    }

    private static RedisConversationStore Store(string prefix) =>
        new(new RedisConnection(new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = prefix }, NullLogger.Instance), TimeProvider.System);

    private static ConversationBinding Assistants(string key, string threadId) =>
        new() { ConversationKey = key, Protocol = AssistantsProtocol.Assistants, ThreadId = threadId };

    private static async Task<string> CreateThreadAsync(AssistantClient client, params string[] userMessages)
    {
        var thread = (await client.CreateThreadAsync()).Value;
        foreach (var text in userMessages)
        {
            await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(text)]);
        }

        return thread.Id;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(AssistantsEmulator source, AssistantsEmulator target, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["SOURCE_OPENAI_BASE_URL"] = source.BaseUri.ToString(),
            ["SOURCE_OPENAI_API_KEY"] = SourceKey,
            ["TARGET_OPENAI_BASE_URL"] = target.BaseUri.ToString(),
            ["TARGET_OPENAI_API_KEY"] = TargetKey,
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await MigrateCommand.RunAsync(args, environment, stdout, stderr);
        return (exit, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }
}
