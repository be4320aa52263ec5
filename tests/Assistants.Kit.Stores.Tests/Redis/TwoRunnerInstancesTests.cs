using System.Globalization;
using System.Text.RegularExpressions;
using Assistants.Kit.Stores.Tests.Support;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>
/// End to end: two runner instances (separate service providers, each with its own Redis connection) share one Redis
/// store and its leases, and talk to one emulated server. Real time throughout: the runs take real milliseconds, leases
/// last 10 s (never near expiry here).
/// </summary>
public sealed partial class TwoRunnerInstancesTests : IAsyncLifetime
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
        }
    }

    [RedisFact]
    public async Task TwoRunnerInstances_SendingToOneConversationAtOnce_RunEveryMessageExactlyOnce_OneAtATime_OnOneThread()
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { InProgressDuration = TimeSpan.FromMilliseconds(50) });
        await using var first = Instance.Start(emulator, _prefix, "first");
        await using var second = Instance.Start(emulator, _prefix, "second");
        const int PerInstance = 6;
        var sends = Enumerable.Range(0, PerInstance)
            .SelectMany(i => new[] { (Kit: first, Text: $"first instance, message {i}"), (Kit: second, Text: $"second instance, message {i}") })
            .ToArray();

        // All at once, from both instances (each instance also queues its own messages in-process).
        var results = await Task.WhenAll(sends.Select(s => Task.Run(() => s.Kit.Runner.RunAsync("shared", s.Text)))).WaitAsync(TimeSpan.FromMinutes(3));

        // No overlap: the server never refused a message or a run ("Can't add messages to thread_… while a run run_… is
        // active", "Thread … already has an active run …"), and nothing else failed either.
        Assert.Empty(emulator.Requests.Where(r => r.StatusCode >= 400));
        Assert.All(results, r => Assert.Equal(RunStatus.Completed, r.Status));
        var thread = Assert.Single(results.Select(r => r.ThreadId).Distinct());
        Assert.Single(emulator.Requests.Where("POST", "/threads"));

        // Every message added once and run once, all on that thread.
        var posted = emulator.Requests.Where("POST", "/threads/*/messages");
        Assert.All(posted, r => Assert.Contains($"/threads/{thread}/messages", r.Path, StringComparison.Ordinal));
        Assert.Equal(sends.Select(s => s.Text).Order(StringComparer.Ordinal), posted.Select(r => r.BodyAsJson()!["content"]!.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(sends.Length, emulator.Requests.Where("POST", "/threads/*/runs").Count);
        Assert.Equal(PerInstance, posted.Count(first.Sent));
        Assert.Equal(PerInstance, posted.Count(second.Sent));

        // Each run answered its own message and saw a different number of earlier messages (0 … 11): one message, then
        // its run to the end, then the next message — never two messages around one run.
        var earlier = new List<int>();
        for (var i = 0; i < sends.Length; i++)
        {
            var match = EmulatedReply().Match(results[i].Text ?? "");
            Assert.True(match.Success, results[i].Text);
            Assert.Equal(sends[i].Text, match.Groups["message"].Value);
            earlier.Add(int.Parse(match.Groups["earlier"].Value, CultureInfo.InvariantCulture));
        }

        Assert.Equal(Enumerable.Range(0, sends.Length), earlier.Order());

        // One lease per message; the binding's last write carried the last lease's token; no lease left behind.
        var database = RedisServer.Multiplexer.GetDatabase();
        Assert.Equal(sends.Length.ToString(CultureInfo.InvariantCulture), (string?)await database.StringGetAsync($"{_prefix}fence:shared"));
        Assert.False(await database.KeyExistsAsync($"{_prefix}lease:shared"));
        var binding = await first.Store.GetAsync("shared", AssistantsProtocol.Assistants);
        Assert.Equal((thread, (long)sends.Length), (binding!.ThreadId, binding.FencingToken));
        Assert.Null(binding.Journal);
    }

    [RedisFact]
    public async Task ASecondInstance_WaitsForTheFirstInstancesRunToEnd_BeforeAddingItsMessage()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.WhenUserMessageContains("slow").Taking(TimeSpan.FromMilliseconds(700));
        await using var first = Instance.Start(emulator, _prefix, "first");
        await using var second = Instance.Start(emulator, _prefix, "second");

        var slow = first.Runner.RunAsync("k", "slow question");
        await Waiting(() => emulator.Requests.Where("POST", "/threads/*/runs").Any(r => r.StatusCode == 200));
        var quick = second.Runner.RunAsync("k", "quick question");

        var (a, b) = (await slow.WaitAsync(TimeSpan.FromMinutes(1)), await quick.WaitAsync(TimeSpan.FromMinutes(1)));

        Assert.Empty(emulator.Requests.Where(r => r.StatusCode >= 400));
        Assert.Equal(a.ThreadId, b.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("quick question", 1), b.Text);

        // The second instance sent nothing to the server until the first one had seen its run completed: it waited for
        // the lease (without one, it would take the first instance's journaled run for a crashed one and poll it too).
        var firstRunDone = emulator.Requests.Where("GET", $"/threads/{a.ThreadId}/runs/{a.RunId}").Single(r => first.Sent(r) && r.ResponseBody?.Contains("\"status\":\"completed\"", StringComparison.Ordinal) == true);
        var fromSecond = emulator.Requests.Where(second.Sent);
        Assert.NotEmpty(fromSecond);
        Assert.All(fromSecond, r => Assert.True(r.Timestamp >= firstRunDone.Timestamp, $"{r} at {r.Timestamp:O}, before {firstRunDone.Timestamp:O}"));
        Assert.Single(fromSecond, r => r.Method == "POST" && r.Path.EndsWith("/messages", StringComparison.Ordinal) && r.Body.Contains("quick question", StringComparison.Ordinal));
    }

    [GeneratedRegex("""^Emulated reply to "(?<message>[^"]*)"\. This thread holds (?<earlier>\d+) earlier user messages?\.$""")]
    private static partial Regex EmulatedReply();

    private static async Task Waiting(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(5);
        }
    }

    /// <summary>One app instance: its own service provider and Redis connection, the kit pointed at the emulator.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer _multiplexer;
        private readonly ServiceProvider _services;

        private readonly string _tag;

        private Instance(ConnectionMultiplexer multiplexer, ServiceProvider services, string name)
        {
            _multiplexer = multiplexer;
            _services = services;
            _tag = $"instance={name}";
        }

        public AssistantRunner Runner => _services.GetRequiredService<AssistantRunner>();

        public IConversationStore Store => _services.GetRequiredService<IConversationStore>();

        /// <summary>Tells whether this instance sent a request (each instance tags its requests with a query parameter).</summary>
        public bool Sent(RecordedRequest request) => request.Query.Contains(_tag, StringComparison.Ordinal);

        public static Instance Start(AssistantsEmulator emulator, string prefix, string name)
        {
            var multiplexer = RedisServer.ConnectNew();
            var services = new ServiceCollection();
            services.AddAssistantsKit(o =>
                {
                    o.Endpoint = emulator.BaseUri;
                    o.ApiKey = "sk-test-two-instances";
                    o.QueryParameters["instance"] = name;
                    o.Polling.InitialDelay = TimeSpan.FromMilliseconds(10);
                    o.Polling.MinDelay = TimeSpan.FromMilliseconds(10);
                    o.Polling.MaxDelay = TimeSpan.FromMilliseconds(100);
                    o.Polling.MaxColdDelay = TimeSpan.FromMilliseconds(100);
                })
                .AddRedisStore(multiplexer, o => o.KeyPrefix = prefix)
                .AddRedisLeases(o =>
                {
                    o.LeaseDuration = TimeSpan.FromSeconds(10);
                    o.AcquireRetryDelay = TimeSpan.FromMilliseconds(10);
                    o.AcquireRetryMaxDelay = TimeSpan.FromMilliseconds(40);
                });
            return new Instance(multiplexer, services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), name);
        }

        public async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync();
            await _multiplexer.DisposeAsync();
        }
    }
}
