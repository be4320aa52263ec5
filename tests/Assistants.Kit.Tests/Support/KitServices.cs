using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Assistants.Kit.Tests.Support;

/// <summary>Builds a service provider with the kit pointed at a loopback server, logs captured.</summary>
internal static class KitServices
{
    public const string TestApiKey = "sk-test-0123456789abcdefSECRET";

    public static ServiceProvider Build(
        Uri endpoint,
        Action<AssistantsKitOptions>? configure = null,
        TimeProvider? timeProvider = null,
        Action<IAssistantsKitBuilder>? kit = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        if (timeProvider is not null)
        {
            collection.AddSingleton(timeProvider);
        }

        var builder = collection.AddAssistantsKit(o =>
        {
            o.Endpoint = endpoint;
            o.ApiKey = TestApiKey;
            configure?.Invoke(o);
        });
        kit?.Invoke(builder);
        services?.Invoke(collection);
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public static IReadOnlyList<string> LogLines(this IServiceProvider provider) =>
        [.. provider.GetRequiredService<FakeLogCollector>().GetSnapshot().Select(r => $"{r.Level} {r.Category} {r.Message} {r.Exception}")];
}

/// <summary>Drives a task that waits on a <c>FakeTimeProvider</c>: lets loopback I/O progress, advancing time only when asked.</summary>
internal static class Waiting
{
    /// <summary>Waits (real time, bounded) until <paramref name="condition"/> holds; for loopback I/O, not for simulated delays.</summary>
    public static async Task UntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("The condition did not hold in time.");
            }

            await Task.Delay(5);
        }
    }
}
