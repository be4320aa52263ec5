using StackExchange.Redis;

namespace Assistants.Kit.Stores.Tests.Support;

/// <summary>
/// The Redis server the Redis tests use: <c>ASSISTANTS_KIT_REDIS</c> (<c>host:port</c>, or any StackExchange.Redis
/// configuration string), which <c>.ci/run</c> sets after starting a throwaway server. Probed once per process with a short
/// connect timeout; when unset or unreachable, the Redis tests are skipped with the reason.
/// </summary>
internal static class RedisServer
{
    public const string EnvironmentVariable = "ASSISTANTS_KIT_REDIS";

    private static readonly Lazy<(ConnectionMultiplexer? Multiplexer, string? SkipReason)> Shared =
        new(() => Probe(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    /// <summary>Gets why Redis tests are skipped, or <see langword="null"/> when a server answers.</summary>
    public static string? SkipReason => Shared.Value.SkipReason;

    /// <summary>Gets the configuration string of the server.</summary>
    public static string ConnectionString => Environment.GetEnvironmentVariable(EnvironmentVariable)!;

    /// <summary>Gets a multiplexer shared by the tests (never closed: it lives as long as the test process).</summary>
    public static ConnectionMultiplexer Multiplexer => Shared.Value.Multiplexer ?? throw new InvalidOperationException(SkipReason);

    /// <summary>Connects a new, separate multiplexer (another "app instance"), patient with a busy machine.</summary>
    public static ConnectionMultiplexer ConnectNew() => ConnectionMultiplexer.Connect(Options(ConnectionString, connectTimeoutMs: 15_000));

    internal static (ConnectionMultiplexer? Multiplexer, string? SkipReason) Probe(string? configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration))
        {
            return (null, $"no Redis server: set {EnvironmentVariable}=host:port to run the Redis tests (.ci/run starts one).");
        }

        try
        {
            // A short connect timeout: an absent server must not slow the run down. Once connected, commands get the
            // generous timeouts of Options, since the machine may be busy running other tests.
            var multiplexer = ConnectionMultiplexer.Connect(Options(configuration, connectTimeoutMs: 3000));
            multiplexer.GetDatabase().Ping();
            return (multiplexer, null);
        }
        catch (Exception ex) when (ex is RedisException or ArgumentException or TimeoutException)
        {
            var reason = ex.Message.Split('\n', 2)[0].Trim();
            return (null, $"{EnvironmentVariable}={configuration} is not reachable ({ex.GetType().Name}: {reason}).");
        }
    }

    private static ConfigurationOptions Options(string configuration, int connectTimeoutMs)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.ConnectTimeout = connectTimeoutMs;
        options.ConnectRetry = 1;
        options.AbortOnConnectFail = true;
        options.SyncTimeout = 30_000;
        options.AsyncTimeout = 30_000;
        return options;
    }
}
