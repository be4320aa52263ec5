using System.Collections.Concurrent;
using Assistants.Kit.Stores.Tests.Support;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// The <see cref="IConversationObserver"/> hooks over each store, written once and run against the in-memory store,
/// SQLite and Redis by a derived class: real turns on the emulator, through kit instances (separate service providers)
/// that share one store, each with its own recording observer. Every lifecycle event must reach the observers exactly
/// once in total, whichever instance handled the turn: a hook raised twice (or never) means the kit read a stale or
/// missing binding back from the store.
/// </summary>
public abstract class ConversationObserverContract : IAsyncLifetime
{
    private readonly List<KitInstance> _instances = [];

    private AssistantsEmulator? _emulator;

    /// <summary>Gets the emulated server every instance talks to.</summary>
    protected AssistantsEmulator Emulator => _emulator ?? throw new InvalidOperationException("not initialised");

    public virtual async Task InitializeAsync() =>
        _emulator = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { InProgressDuration = TimeSpan.FromMilliseconds(20) });

    public virtual async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }

    /// <summary>Registers this test's store (shared by every instance the test starts) on one instance's services.</summary>
    /// <param name="kit">The instance's kit builder.</param>
    /// <param name="disposables">Receives what the instance owns and must dispose (e.g. its own Redis connection).</param>
    protected abstract void AddStore(IAssistantsKitBuilder kit, List<IAsyncDisposable> disposables);

    [StoreFact]
    public async Task NewConversation_RaisesThreadCreatedOnce_AndEachRunStartedAndFinishedOnce()
    {
        var instance = Start("a");

        var first = await instance.Runner.RunAsync("k", "one");
        var second = await instance.Runner.RunAsync("k", "two");

        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.Equal(
            [
                $"thread.created k {first.ThreadId} created",
                $"run.started {first.RunId} queued",
                $"run.finished {first.RunId} completed",
                $"run.started {second.RunId} queued",
                $"run.finished {second.RunId} completed",
            ],
            instance.Recorder.Events);
        Assert.Single(Emulator.Requests.Where("POST", "/threads"));
    }

    [StoreFact]
    public async Task TwoInstances_SharingTheStore_OneThreadCreatedEvent_AndEachRunObservedOnlyWhereItRan()
    {
        var a = Start("a");
        var b = Start("b");

        var first = await a.Runner.RunAsync("k", "from a");
        var second = await b.Runner.RunAsync("k", "from b");
        var third = await a.Runner.RunAsync("k", "from a again");

        // The second instance found the first one's binding in the store: same thread, no second creation.
        Assert.Equal([first.ThreadId], new[] { first, second, third }.Select(r => r.ThreadId).Distinct());
        Assert.Single(Emulator.Requests.Where("POST", "/threads"));
        Assert.Equal(
            [
                $"thread.created k {first.ThreadId} created",
                $"run.started {first.RunId} queued",
                $"run.finished {first.RunId} completed",
                $"run.started {third.RunId} queued",
                $"run.finished {third.RunId} completed",
            ],
            a.Recorder.Events);
        Assert.Equal([$"run.started {second.RunId} queued", $"run.finished {second.RunId} completed"], b.Recorder.Events);
    }

    [StoreFact]
    public async Task ThreadGoneOnTheServer_TheOtherInstanceRaisesRolledOverOnce_NotFound_AndNoSecondCreation()
    {
        var a = Start("a");
        var b = Start("b");
        var first = await a.Runner.RunAsync("k", "one");
        await DeleteThreadAsync(first.ThreadId);

        var second = await b.Runner.RunAsync("k", "two");
        var third = await a.Runner.RunAsync("k", "three");

        Assert.NotEqual(first.ThreadId, second.ThreadId);
        Assert.Equal(second.ThreadId, third.ThreadId); // a read the moved binding back: no second replacement
        var threadEvents = a.Recorder.Events.Concat(b.Recorder.Events).Where(e => e.StartsWith("thread.", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [$"thread.created k {first.ThreadId} created", $"thread.rolled_over k {first.ThreadId}->{second.ThreadId} not_found"],
            threadEvents);
        Assert.Contains($"thread.rolled_over k {first.ThreadId}->{second.ThreadId} not_found", b.Recorder.Events);
        Assert.Equal(3, a.Recorder.Events.Concat(b.Recorder.Events).Count(e => e.StartsWith("run.finished", StringComparison.Ordinal)));
    }

    [StoreFact]
    public async Task Rollover_ByMessageCount_AcrossInstances_RaisesPressureAndRolledOverOnce()
    {
        Emulator.Script.WhenUserMessageContains("Summarise our conversation").Reply("SUMMARY: two greetings.");
        var a = Start("a", o => o.Rollover.MessageThreshold = 4);
        var b = Start("b", o => o.Rollover.MessageThreshold = 4);

        var first = await a.Runner.RunAsync("k", "hello 1");
        var second = await b.Runner.RunAsync("k", "hello 2"); // 4 messages on the thread, counted in the store's binding
        var third = await a.Runner.RunAsync("k", "hello 3");

        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.NotEqual(second.ThreadId, third.ThreadId);
        var all = a.Recorder.Events.Concat(b.Recorder.Events).ToList();
        Assert.Single(all, e => e.StartsWith("thread.created", StringComparison.Ordinal));
        Assert.Equal([$"pressure k message_count {first.ThreadId} 4"], all.Where(e => e.StartsWith("pressure", StringComparison.Ordinal)));
        Assert.Equal([$"thread.rolled_over k {first.ThreadId}->{third.ThreadId} rollover"], all.Where(e => e.StartsWith("thread.rolled_over", StringComparison.Ordinal)));
        var binding = await a.Store.GetAsync("k", AssistantsProtocol.Assistants);
        Assert.Equal(third.ThreadId, binding!.ThreadId);
        Assert.Equal([first.ThreadId], binding.PreviousThreadIds);
    }

    /// <summary>Starts one kit instance on the test's store, pointed at the emulator, with its own recorder.</summary>
    [StoreFact]
    public async Task Approval_RequestedWhereTheRunPaused_DecidedWhereItWasApproved_EachOnce()
    {
        var a = Start("a");
        var b = Start("b");
        Emulator.Script.OnRun(1).CallTools(("gated_refund", """{"order_id":"ORD-1"}""")).Reply("refunded");

        var paused = await a.Runner.RunAsync("k", "refund ORD-1");
        var approval = Assert.Single(paused.PendingApprovals);

        // The other instance finds the pending approval in the store and decides it; a second decision is refused.
        Assert.Equal(approval.ApprovalId, Assert.Single(await b.Runner.GetPendingApprovalsAsync("k")).ApprovalId);
        var done = await b.Runner.ApproveAsync(approval.ApprovalId);
        await Assert.ThrowsAsync<ApprovalAlreadyDecidedException>(() => a.Runner.ApproveAsync(approval.ApprovalId));

        Assert.Equal(RunStatus.Completed, done.Status);
        Assert.Single(a.Recorder.Events, e => e == $"approval.requested gated_refund {approval.ToolCallId}");
        Assert.DoesNotContain(a.Recorder.Events, e => e.StartsWith("approval.decided", StringComparison.Ordinal));
        Assert.Single(b.Recorder.Events, e => e == $"approval.decided gated_refund {approval.ToolCallId} Approved");
        Assert.DoesNotContain(b.Recorder.Events, e => e.StartsWith("approval.requested", StringComparison.Ordinal));
        Assert.Empty(await a.Runner.GetPendingApprovalsAsync("k"));
    }

    protected KitInstance Start(string name, Action<AssistantsKitOptions>? configure = null)
    {
        var services = new ServiceCollection();
        var recorder = new Recorder();
        var disposables = new List<IAsyncDisposable>();
        var kit = services.AddAssistantsKit(o =>
            {
                o.Endpoint = Emulator.BaseUri;
                o.ApiKey = "sk-test-observer-contract";
                o.QueryParameters["instance"] = name;
                o.Polling.InitialDelay = TimeSpan.FromMilliseconds(10);
                o.Polling.MinDelay = TimeSpan.FromMilliseconds(10);
                o.Polling.MaxDelay = TimeSpan.FromMilliseconds(50);
                o.Polling.MaxColdDelay = TimeSpan.FromMilliseconds(50);
                configure?.Invoke(o);
            })
            .AddConversationObserver(recorder)
            .AddTools<GatedTools>();
        AddStore(kit, disposables);
        var instance = new KitInstance(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), recorder, disposables);
        _instances.Add(instance);
        return instance;
    }

    private async Task DeleteThreadAsync(string threadId)
    {
        using var http = new HttpClient();
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"{Emulator.BaseUri}/threads/{threadId}");
        delete.Headers.Add("OpenAI-Beta", "assistants=v2");
        (await http.SendAsync(delete)).EnsureSuccessStatusCode();
    }

    /// <summary>One app instance: its own service provider (and, for Redis, its own connection) over the shared store.</summary>
    protected sealed class KitInstance(ServiceProvider services, Recorder recorder, List<IAsyncDisposable> disposables) : IAsyncDisposable
    {
        public AssistantRunner Runner => services.GetRequiredService<AssistantRunner>();

        public IConversationStore Store => services.GetRequiredService<IConversationStore>();

        public Recorder Recorder => recorder;

        public async ValueTask DisposeAsync()
        {
            await services.DisposeAsync();
            foreach (var disposable in disposables)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    /// <summary>A tool that needs a person's approval.</summary>
    public sealed class GatedTools
    {
        [AssistantTool("gated_refund", Description = "Refunds an order.", RequiresApproval = true)]
        public static string Refund(string order_id) => $$"""{"order_id":"{{order_id}}","refunded":true}""";
    }

    /// <summary>Records every thread, run, pressure and approval event, in order.</summary>
    protected sealed class Recorder : IConversationObserver
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public ValueTask OnThreadCreatedAsync(ConversationThreadEvent e, CancellationToken cancellationToken) =>
            Add($"thread.created {e.ConversationKey} {e.ThreadId} {e.Reason}");

        public ValueTask OnThreadRolledOverAsync(ConversationThreadEvent e, CancellationToken cancellationToken) =>
            Add($"thread.rolled_over {e.ConversationKey} {e.PreviousThreadId}->{e.ThreadId} {e.Reason}");

        public ValueTask OnRunStartedAsync(ConversationRunEvent e, CancellationToken cancellationToken) =>
            Add($"run.started {e.RunId} {e.Status.ToWireString()}");

        public ValueTask OnRunFinishedAsync(ConversationRunEvent e, CancellationToken cancellationToken) =>
            Add($"run.finished {e.RunId} {e.Status.ToWireString()}");

        public ValueTask OnContextPressureAsync(ContextPressureEvent e, CancellationToken cancellationToken) =>
            Add($"pressure {e.ConversationKey} {e.Reason} {e.ThreadId} {e.MessageCount}");

        public ValueTask OnApprovalRequestedAsync(ToolApproval approval, CancellationToken cancellationToken) =>
            Add($"approval.requested {approval.ToolName} {approval.ToolCallId}");

        public ValueTask OnApprovalDecidedAsync(ToolApproval approval, TimeSpan waited, CancellationToken cancellationToken) =>
            Add($"approval.decided {approval.ToolName} {approval.ToolCallId} {approval.State}");

        private ValueTask Add(string text)
        {
            Events.Enqueue(text);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The observer contract over one in-memory store instance shared by the kit instances (as one process would).</summary>
public sealed class InMemoryObserverContractTests : ConversationObserverContract
{
    private readonly InMemoryConversationStore _store = new();

    protected override void AddStore(IAssistantsKitBuilder kit, List<IAsyncDisposable> disposables) =>
        kit.Services.AddSingleton<IConversationStore>(_store);
}

/// <summary>The observer contract over a real SQLite file: each kit instance opens the file with its own <c>AddSqliteStore</c>.</summary>
public sealed class SqliteObserverContractTests : ConversationObserverContract
{
    private readonly TempDirectory _directory = new();

    protected override void AddStore(IAssistantsKitBuilder kit, List<IAsyncDisposable> disposables) =>
        kit.AddSqliteStore(_directory.File("kit.db"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

/// <summary>
/// The observer contract over Redis (<c>ASSISTANTS_KIT_REDIS</c>): each kit instance connects on its own with
/// <c>AddRedisStore</c>, under this test's key prefix, deleted afterwards.
/// </summary>
[RequiresRedis]
public sealed class RedisObserverContractTests : ConversationObserverContract
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    protected override void AddStore(IAssistantsKitBuilder kit, List<IAsyncDisposable> disposables)
    {
        var multiplexer = RedisServer.ConnectNew();
        disposables.Add(multiplexer);
        kit.AddRedisStore(multiplexer, o => o.KeyPrefix = _prefix);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
        }
    }
}
