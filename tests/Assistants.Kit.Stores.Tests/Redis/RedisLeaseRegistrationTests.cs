using Assistants.Kit.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary><c>AddRedisLeases</c>: registration, defaults and option validation (no server needed: nothing connects).</summary>
public sealed class RedisLeaseRegistrationTests
{
    [Fact]
    public async Task AddRedisLeases_RegistersTheProvider_OnTheStoresConnection_WithTheDefaults()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore("127.0.0.1:1,abortConnect=false").AddRedisLeases();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var leases = Assert.IsType<RedisConversationLeaseProvider>(provider.GetRequiredService<IConversationLeaseProvider>());

        Assert.Single(services, d => d.ServiceType == typeof(IConversationLeaseProvider));
        Assert.Single(services, d => d.ServiceType == typeof(RedisConnection));
        Assert.Equal(RedisStoreOptions.DefaultKeyPrefix, leases.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(30), leases.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(10), leases.RenewInterval);
        var options = provider.GetRequiredService<IOptions<RedisLeaseOptions>>().Value;
        Assert.Equal((TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), null), (options.AcquireRetryDelay, options.AcquireRetryMaxDelay, options.KeyPrefix));
    }

    [Fact]
    public async Task AddRedisLeases_TakesItsOptions_FollowsTheStoresPrefix_AndReplacesAnotherProvider()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConversationLeaseProvider>(new NoLeases());
        services.AddAssistantsKit()
            .AddRedisLeases(o => o.LeaseDuration = TimeSpan.FromSeconds(3))
            .AddRedisStore(o => (o.ConnectionString, o.KeyPrefix) = ("127.0.0.1:1,abortConnect=false", "app:"));
        await using var provider = services.BuildServiceProvider();

        var leases = Assert.IsType<RedisConversationLeaseProvider>(provider.GetRequiredService<IConversationLeaseProvider>());

        Assert.Single(services, d => d.ServiceType == typeof(IConversationLeaseProvider));
        Assert.Equal(("app:", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)), (leases.KeyPrefix, leases.LeaseDuration, leases.RenewInterval));
        Assert.Equal("app:lease:k", leases.LeaseKey("k").ToString());
        Assert.Equal("app:fence:k", leases.FenceKey("k").ToString());
    }

    [Fact]
    public async Task AddRedisLeases_WithoutAStoreConnection_FailsNamingIt()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisLeases();
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConversationLeaseProvider>());

        Assert.Contains("RedisStoreOptions.ConnectionString (or Multiplexer) is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidLeaseOptions_FailWhenResolved_WithAMessageNamingTheValue()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore("127.0.0.1:1,abortConnect=false").AddRedisLeases(o => o.LeaseDuration = TimeSpan.Zero);
        await using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConversationLeaseProvider>());

        Assert.Contains("RedisLeaseOptions.LeaseDuration must be between 00:00:00.0100000 and 1.00:00:00 (was 00:00:00).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryInvalidLeaseOption_IsReported_NamingItsValue()
    {
        var validator = new RedisLeaseOptionsValidator();

        var result = validator.Validate(null, new RedisLeaseOptions
        {
            LeaseDuration = TimeSpan.FromDays(2),
            RenewInterval = TimeSpan.FromSeconds(-1),
            AcquireRetryDelay = TimeSpan.Zero,
            KeyPrefix = "",
        });
        var renewTooLong = validator.Validate(null, new RedisLeaseOptions { LeaseDuration = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromSeconds(3) });
        var maxBelowMin = validator.Validate(null, new RedisLeaseOptions { AcquireRetryDelay = TimeSpan.FromSeconds(1), AcquireRetryMaxDelay = TimeSpan.FromMilliseconds(500) });

        Assert.Equal(
            [
                "RedisLeaseOptions.LeaseDuration must be between 00:00:00.0100000 and 1.00:00:00 (was 2.00:00:00).",
                "RedisLeaseOptions.RenewInterval must be positive and shorter than LeaseDuration (2.00:00:00), or null for a third of it (was -00:00:01).",
                "RedisLeaseOptions.AcquireRetryDelay must be positive and at most 00:01:00 (was 00:00:00).",
                "RedisLeaseOptions.KeyPrefix must not be empty; null uses the store's KeyPrefix (was '').",
            ],
            result.Failures!);
        Assert.Equal(
            ["RedisLeaseOptions.RenewInterval must be positive and shorter than LeaseDuration (00:00:03), or null for a third of it (was 00:00:03)."],
            renewTooLong.Failures!);
        Assert.Equal(
            ["RedisLeaseOptions.AcquireRetryMaxDelay must be between AcquireRetryDelay (00:00:01) and 00:01:00 (was 00:00:00.5000000)."],
            maxBelowMin.Failures!);
        Assert.True(validator.Validate(null, new RedisLeaseOptions()).Succeeded);
    }

    [Fact]
    public async Task TheProvider_RejectsInvalidOptions_AndAnEmptyKey()
    {
        using var connection = new RedisConnection(new RedisStoreOptions { ConnectionString = "127.0.0.1:1,abortConnect=false" }, NullLogger.Instance);

        var ex = Assert.Throws<ArgumentException>(() => new RedisConversationLeaseProvider(
            connection, new RedisLeaseOptions { AcquireRetryMaxDelay = TimeSpan.FromMinutes(5) }, TimeProvider.System, NullLogger.Instance));
        var leases = new RedisConversationLeaseProvider(connection, new RedisLeaseOptions(), TimeProvider.System, NullLogger.Instance);

        Assert.Contains("AcquireRetryMaxDelay must be between AcquireRetryDelay (00:00:00.0500000) and 00:01:00 (was 00:05:00)", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => leases.AcquireAsync("", CancellationToken.None).AsTask());
    }

    private sealed class NoLeases : IConversationLeaseProvider
    {
        public ValueTask<IConversationLease> AcquireAsync(string conversationKey, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
