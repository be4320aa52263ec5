using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Concurrency;

public sealed class FencingTests
{
    private sealed class CountingLeases : IConversationLeaseProvider
    {
        private long _next = 10;

        public List<string> Acquired { get; } = [];

        public ValueTask<IConversationLease> AcquireAsync(string conversationKey, CancellationToken cancellationToken)
        {
            lock (Acquired)
            {
                Acquired.Add(conversationKey);
            }

            return ValueTask.FromResult<IConversationLease>(new Lease(conversationKey, Interlocked.Increment(ref _next)));
        }

        private sealed class Lease(string key, long token) : IConversationLease
        {
            public string ConversationKey => key;

            public long FencingToken => token;

            public bool IsLost => false;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task WithALeaseProvider_EveryWriteCarriesTheLeasesToken_AndAStaleWriterIsRejected()
    {
        var leases = new CountingLeases();
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddSingleton<IConversationLeaseProvider>(leases));

        await kit.Runner.RunAsync("k", "first");
        var afterFirst = (await kit.Store.GetAsync("k", AssistantsProtocol.Assistants))!;
        await kit.Runner.RunAsync("k", "second");
        var afterSecond = (await kit.Store.GetAsync("k", AssistantsProtocol.Assistants))!;

        Assert.Equal(["k", "k"], leases.Acquired);
        Assert.Equal(11, afterFirst.FencingToken);
        Assert.Equal(12, afterSecond.FencingToken);

        // A writer still holding the first lease (token 11) is fenced off.
        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => kit.Store.SaveAsync(afterSecond with { FencingToken = 11, MessageCount = 0 }).AsTask());
        Assert.Equal(11, ex.FencingToken);
        Assert.Equal(12, ex.StoredFencingToken);
        Assert.Equal(afterSecond.MessageCount, (await kit.Store.GetAsync("k", AssistantsProtocol.Assistants))!.MessageCount); // nothing lost
    }
}
