using System.Collections;
using System.Reflection;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// The behaviour every <see cref="IConversationStore"/> shares, written once and run against each store by a derived
/// class: the in-memory reference store, SQLite and Redis.
/// </summary>
public abstract class ConversationStoreContract : IAsyncLifetime
{
    private IConversationStore? _store;

    /// <summary>Gets the clock the stores stamp bindings with.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));

    /// <summary>Gets the store under test (the first one <see cref="OpenStore"/> returned).</summary>
    protected IConversationStore Store => _store ??= OpenStore();

    /// <summary>Opens a store on this test's storage; a second call gives another instance on the same data where the store has instances.</summary>
    protected abstract IConversationStore OpenStore();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task Get_UnknownKey_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync("nobody", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Save_New_StartsAtVersionOne_StampedByTheClock()
    {
        var saved = await Store.SaveAsync(Binding("order-1"));

        Assert.Equal(1, saved.Version);
        Assert.Equal(Time.GetUtcNow(), saved.CreatedAt);
        Assert.Equal(Time.GetUtcNow(), saved.UpdatedAt);
        AssertSame(saved, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Save_New_KeepsAGivenCreatedAt_WithItsOffset()
    {
        var createdAt = new DateTimeOffset(2025, 12, 31, 23, 59, 58, 123, TimeSpan.FromHours(2)).AddTicks(4567);

        var saved = await Store.SaveAsync(Binding("order-1") with { CreatedAt = createdAt });

        var read = await Store.GetAsync("order-1", AssistantsProtocol.Assistants);
        Assert.Equal(createdAt, saved.CreatedAt);
        Assert.Equal(createdAt, read!.CreatedAt);
        Assert.Equal(TimeSpan.FromHours(2), read.CreatedAt.Offset);
        Assert.Equal(createdAt.Ticks, read.CreatedAt.Ticks);
    }

    [StoreFact]
    public async Task Save_Existing_IncrementsVersion_RestampsUpdatedAt_KeepsCreatedAt()
    {
        var first = await Store.SaveAsync(Binding("order-1"));
        Time.Advance(TimeSpan.FromMinutes(3));

        var second = await Store.SaveAsync(first with { ActiveRunId = "run_2", MessageCount = 4 });

        Assert.Equal(2, second.Version);
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal(first.UpdatedAt + TimeSpan.FromMinutes(3), second.UpdatedAt);
        AssertSame(second, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Save_NewWithNonZeroVersion_Conflicts_AndStoresNothing()
    {
        var ex = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(Binding("order-1") with { Version = 5 }).AsTask());

        Assert.Equal(("order-1", AssistantsProtocol.Assistants, 5L, 0L), (ex.ConversationKey, ex.Protocol, ex.ExpectedVersion, ex.ActualVersion));
        Assert.Null(await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Save_StaleVersion_Conflicts_WithExpectedAndActual_AndLeavesTheStoredBinding()
    {
        var v1 = await Store.SaveAsync(Binding("order-1"));
        var v2 = await Store.SaveAsync(v1 with { ThreadId = "thread_new" });

        var ex = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(v1 with { ThreadId = "thread_lost" }).AsTask());

        Assert.Equal((1L, 2L), (ex.ExpectedVersion, ex.ActualVersion));
        Assert.Contains("expected version 1, stored version 2", ex.Message, StringComparison.Ordinal);
        AssertSame(v2, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Save_VersionZeroOverAnExistingBinding_Conflicts()
    {
        await Store.SaveAsync(Binding("order-1"));

        var ex = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(Binding("order-1", threadId: "thread_other")).AsTask());

        Assert.Equal((0L, 1L), (ex.ExpectedVersion, ex.ActualVersion));
        Assert.Equal("thread_1", (await Store.GetAsync("order-1", AssistantsProtocol.Assistants))!.ThreadId);
    }

    [StoreFact]
    public async Task Save_AfterDelete_TheOldVersionConflicts_AndANewBindingStartsAgainAtOne()
    {
        var v1 = await Store.SaveAsync(Binding("order-1"));
        Assert.True(await Store.DeleteAsync("order-1", AssistantsProtocol.Assistants));

        var ex = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(v1).AsTask());
        var again = await Store.SaveAsync(Binding("order-1", threadId: "thread_2"));

        Assert.Equal((1L, 0L), (ex.ExpectedVersion, ex.ActualVersion));
        Assert.Equal(1, again.Version);
    }

    [StoreFact]
    public async Task ConcurrentUpdates_FromTwoStoreInstances_ExactlyOneWriterWins()
    {
        var stores = new[] { Store, OpenStore() };
        var read = await Store.SaveAsync(Binding("race"));

        var results = await RaceAsync(8, i => stores[i % 2].SaveAsync(read with { ThreadId = $"thread_writer_{i}" }).AsTask());

        var winner = Assert.Single(results, r => r.Saved is not null);
        Assert.All(results.Where(r => r.Saved is null), r => Assert.Equal((1L, 2L), (r.Conflict!.ExpectedVersion, r.Conflict.ActualVersion)));
        var stored = await OpenStore().GetAsync("race", AssistantsProtocol.Assistants);
        Assert.Equal(2, stored!.Version);
        Assert.Equal($"thread_writer_{winner.Index}", stored.ThreadId);
    }

    [StoreFact]
    public async Task ConcurrentCreates_FromTwoStoreInstances_ExactlyOneWriterWins()
    {
        var stores = new[] { Store, OpenStore() };

        var results = await RaceAsync(8, i => stores[i % 2].SaveAsync(Binding("race", threadId: $"thread_writer_{i}")).AsTask());

        var winner = Assert.Single(results, r => r.Saved is not null);
        Assert.All(results.Where(r => r.Saved is null), r => Assert.Equal((0L, 1L), (r.Conflict!.ExpectedVersion, r.Conflict.ActualVersion)));
        Assert.Equal($"thread_writer_{winner.Index}", (await Store.GetAsync("race", AssistantsProtocol.Assistants))!.ThreadId);
    }

    [StoreFact]
    public async Task Fencing_ALowerToken_IsRejected_WithBothTokens_AndNothingChanges()
    {
        var stored = await Store.SaveAsync(Binding("order-1") with { FencingToken = 5, MessageCount = 2 });

        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(stored with { FencingToken = 4, MessageCount = 99, ThreadId = "thread_stale" }).AsTask());

        Assert.Equal(("order-1", 4L, 5L), (ex.ConversationKey, ex.FencingToken, ex.StoredFencingToken));
        Assert.Contains("fencing token 4 is older than the stored 5", ex.Message, StringComparison.Ordinal);
        AssertSame(stored, await OpenStore().GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Fencing_AnEqualOrHigherToken_IsAccepted_AndBecomesTheStoredToken()
    {
        var v1 = await Store.SaveAsync(Binding("order-1") with { FencingToken = 5 });
        var v2 = await Store.SaveAsync(v1 with { MessageCount = 1 });
        var v3 = await Store.SaveAsync(v2 with { FencingToken = 9, MessageCount = 2 });

        Assert.Equal((5L, 5L, 9L), (v1.FencingToken, v2.FencingToken, v3.FencingToken));
        Assert.Equal(3, v3.Version);
        AssertSame(v3, await OpenStore().GetAsync("order-1", AssistantsProtocol.Assistants));

        // The token moved to 9: the holder of 5 is now fenced off, the holder of 9 is not.
        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(v3 with { FencingToken = 5 }).AsTask());
        Assert.Equal((5L, 9L), (ex.FencingToken, ex.StoredFencingToken));
        Assert.Equal(4, (await Store.SaveAsync(v3 with { MessageCount = 3 })).Version);
    }

    [StoreFact]
    public async Task Fencing_AnUnfencedWriter_IsAcceptedUntilAFencedOneSaved_ThenRejected()
    {
        var unfenced = await Store.SaveAsync(Binding("order-1"));
        unfenced = await Store.SaveAsync(unfenced with { MessageCount = 1 });
        Assert.Equal(0, unfenced.FencingToken);

        var fenced = await Store.SaveAsync(unfenced with { FencingToken = 3 });

        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(fenced with { FencingToken = 0 }).AsTask());
        Assert.Equal((0L, 3L), (ex.FencingToken, ex.StoredFencingToken));
        AssertSame(fenced, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Fencing_IsCheckedBeforeTheVersion()
    {
        var v1 = await Store.SaveAsync(Binding("order-1") with { FencingToken = 2 });
        var v2 = await Store.SaveAsync(v1 with { FencingToken = 6 });

        // Stale version and lower token: fenced. Stale version, token not lower: a version conflict.
        var fenced = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(v1 with { FencingToken = 2 }).AsTask());
        var conflict = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(v1 with { FencingToken = 6 }).AsTask());
        var conflictHigher = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(v1 with { FencingToken = 7 }).AsTask());

        Assert.Equal((2L, 6L), (fenced.FencingToken, fenced.StoredFencingToken));
        Assert.Equal((1L, 2L), (conflict.ExpectedVersion, conflict.ActualVersion));
        Assert.Equal((1L, 2L), (conflictHigher.ExpectedVersion, conflictHigher.ActualVersion));
        AssertSame(v2, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Fencing_ANewBindingOverAStoredOne_IsFencedByALowerToken_ElseAVersionConflict()
    {
        var stored = await Store.SaveAsync(Binding("order-1") with { FencingToken = 4 });

        var fenced = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(Binding("order-1", threadId: "thread_other") with { FencingToken = 3 }).AsTask());
        var conflict = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => Store.SaveAsync(Binding("order-1", threadId: "thread_other") with { FencingToken = 8 }).AsTask());

        Assert.Equal((3L, 4L), (fenced.FencingToken, fenced.StoredFencingToken));
        Assert.Equal((0L, 1L), (conflict.ExpectedVersion, conflict.ActualVersion));
        AssertSame(stored, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Fencing_ANewBinding_TakesAnyToken_AndADeleteForgetsTheToken()
    {
        var first = await Store.SaveAsync(Binding("order-1") with { FencingToken = 12 });
        Assert.Equal(12, first.FencingToken);
        Assert.True(await Store.DeleteAsync("order-1", AssistantsProtocol.Assistants));

        var again = await Store.SaveAsync(Binding("order-1", threadId: "thread_2") with { FencingToken = 3 });

        Assert.Equal((1L, 3L), (again.Version, again.FencingToken));
        AssertSame(again, await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Fencing_TokensArePerKeyAndProtocol()
    {
        await Store.SaveAsync(Binding("shared", AssistantsProtocol.Assistants) with { FencingToken = 10 });
        var other = await Store.SaveAsync(Binding("other") with { FencingToken = 1 });
        var responses = await Store.SaveAsync(Binding("shared", AssistantsProtocol.Responses, "conv_r") with { FencingToken = 1 });

        Assert.Equal(2, (await Store.SaveAsync(other with { MessageCount = 1 })).Version);
        Assert.Equal(2, (await Store.SaveAsync(responses with { MessageCount = 1 })).Version);
    }

    [StoreFact]
    public async Task Fencing_ComparesEvery64BitTokenExactly()
    {
        // Neighbours that a double cannot tell apart, and the sign.
        var stored = await Store.SaveAsync(Binding("big") with { FencingToken = long.MaxValue });
        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(stored with { FencingToken = long.MaxValue - 1 }).AsTask());
        Assert.Equal((long.MaxValue - 1, long.MaxValue), (ex.FencingToken, ex.StoredFencingToken));
        Assert.Equal(long.MaxValue, (await Store.SaveAsync(stored)).FencingToken);

        var negative = await Store.SaveAsync(Binding("negative") with { FencingToken = -5 });
        await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(negative with { FencingToken = -6 }).AsTask());
        negative = await Store.SaveAsync(negative with { FencingToken = -4 });
        var crossed = await Assert.ThrowsAsync<ConversationFencedException>(() => Store.SaveAsync(negative with { FencingToken = -40 }).AsTask());
        Assert.Equal((-40L, -4L), (crossed.FencingToken, crossed.StoredFencingToken));
        Assert.Equal(9, (await Store.SaveAsync(negative with { FencingToken = 9 })).FencingToken);
        Assert.Equal(9, (await Store.GetAsync("negative", AssistantsProtocol.Assistants))!.FencingToken);
    }

    [StoreFact]
    public async Task Fencing_WritersRacingWithDifferentTokens_FromTwoStoreInstances_OneWins_NoneLost()
    {
        var stores = new[] { Store, OpenStore() };
        var read = await Store.SaveAsync(Binding("race") with { FencingToken = 4 });

        // Tokens 1..8 at the read version: 1..3 are fenced whoever wins; of 4..8 exactly one wins.
        var outcomes = await Task.WhenAll(Enumerable.Range(1, 8).Select(token => Task.Run(async () =>
        {
            try
            {
                return (Token: token, Outcome: (await stores[token % 2].SaveAsync(read with { FencingToken = token, ThreadId = $"thread_{token}" })).ThreadId);
            }
            catch (ConversationFencedException ex)
            {
                return (Token: token, Outcome: $"fenced by {ex.StoredFencingToken}");
            }
            catch (ConversationConcurrencyException)
            {
                return (Token: token, Outcome: "conflict");
            }
        })));

        var winner = Assert.Single(outcomes, o => o.Outcome.StartsWith("thread_", StringComparison.Ordinal));
        Assert.InRange(winner.Token, 4, 8);
        Assert.All(outcomes.Where(o => o.Token < 4), o => Assert.StartsWith("fenced by ", o.Outcome, StringComparison.Ordinal));
        var stored = await OpenStore().GetAsync("race", AssistantsProtocol.Assistants);
        Assert.Equal((2L, (long)winner.Token, $"thread_{winner.Token}"), (stored!.Version, stored.FencingToken, stored.ThreadId));
    }

    [StoreFact]
    public async Task EveryField_RoundTrips_IncludingListsAndNullableEnum()
    {
        var binding = new ConversationBinding
        {
            ConversationKey = "customer-42/order-7",
            Protocol = AssistantsProtocol.Responses,
            ThreadId = "conv_abc",
            AssistantId = "asst_123",
            DefinitionVersion = "sha256:0f1e2d",
            ActiveRunId = "run_9",
            ActiveRunStatus = RunStatus.RequiresAction,
            PendingToolCalls =
            [
                new PendingToolCall("call_1", "get_order_status", """{"orderId":"ORD-12345","verbose":true}""", """{"status":"shipped","note":"ü \"q\""}"""),
                new PendingToolCall("call_2", "refund", """{"amount":12.5,"note":"naïve \"quoted\" 😀\n"}"""),
                new PendingToolCall("call_3", "noop", "{}")
                {
                    Approval = ApprovalState.Pending,
                    ApprovalRequestedAt = new DateTimeOffset(2026, 1, 1, 8, 0, 2, TimeSpan.FromHours(-5)),
                    ApprovalExpiresAt = new DateTimeOffset(2026, 1, 1, 13, 10, 2, TimeSpan.Zero),
                },
            ],
            MessageCount = 17,
            CreatedAt = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.FromHours(-5)),
            PreviousThreadIds = ["thread_old_1", "thread_old_2", "thread_ölder ✓"],
            FencingToken = 7,
            Journal = new RunJournal
            {
                Phase = RunJournalPhase.RunActive,
                MessageText = "Where is ORD-12345? 😀 \"quoted\"",
                MessageOperationId = "op_msg",
                MessageId = "msg_1",
                RunOperationId = "op_run",
                RunId = "run_9",
                AssistantName = "support",
                StartedAt = new DateTimeOffset(2026, 1, 1, 8, 0, 1, TimeSpan.FromHours(-5)),
            },
        };

        var saved = await Store.SaveAsync(binding);

        var read = await OpenStore().GetAsync(binding.ConversationKey, binding.Protocol);
        AssertSame(saved, read);
        Assert.Equal(binding with { Version = 1, UpdatedAt = Time.GetUtcNow() }, saved);
    }

    [StoreFact]
    public async Task EveryRunStatus_AndNoStatus_RoundTrip()
    {
        RunStatus?[] statuses = [null, .. Enum.GetValues<RunStatus>().Cast<RunStatus?>()];
        foreach (var status in statuses)
        {
            var key = $"status-{status?.ToString() ?? "none"}";
            await Store.SaveAsync(Binding(key) with { ActiveRunStatus = status, ActiveRunId = status is null ? null : "run_1" });

            Assert.Equal(status, (await Store.GetAsync(key, AssistantsProtocol.Assistants))!.ActiveRunStatus);
        }
    }

    [StoreFact]
    public async Task EmptyListsAndNullOptionalFields_RoundTrip()
    {
        var saved = await Store.SaveAsync(Binding("minimal"));

        var read = await Store.GetAsync("minimal", AssistantsProtocol.Assistants);
        AssertSame(saved, read);
        Assert.Empty(read!.PendingToolCalls);
        Assert.Empty(read.PreviousThreadIds);
        Assert.Null(read.AssistantId);
        Assert.Null(read.DefinitionVersion);
        Assert.Null(read.ActiveRunId);
        Assert.Null(read.ActiveRunStatus);
    }

    [StoreFact]
    public async Task Bindings_ArePerKeyAndProtocol()
    {
        var assistants = await Store.SaveAsync(Binding("shared", AssistantsProtocol.Assistants, "thread_a"));
        var responses = await Store.SaveAsync(Binding("shared", AssistantsProtocol.Responses, "conv_r"));
        await Store.SaveAsync(responses with { MessageCount = 2 });

        Assert.Equal(1, (await Store.GetAsync("shared", AssistantsProtocol.Assistants))!.Version);
        Assert.Equal("conv_r", (await Store.GetAsync("shared", AssistantsProtocol.Responses))!.ThreadId);
        Assert.True(await Store.DeleteAsync("shared", AssistantsProtocol.Responses));
        AssertSame(assistants, await Store.GetAsync("shared", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task Delete_ReturnsWhetherABindingWasDeleted()
    {
        await Store.SaveAsync(Binding("order-1"));

        Assert.True(await Store.DeleteAsync("order-1", AssistantsProtocol.Assistants));
        Assert.False(await Store.DeleteAsync("order-1", AssistantsProtocol.Assistants));
        Assert.False(await Store.DeleteAsync("never", AssistantsProtocol.Assistants));
        Assert.Null(await Store.GetAsync("order-1", AssistantsProtocol.Assistants));
        Assert.Empty(await ListAsync());
    }

    [StoreFact]
    public async Task List_IsEmptyForAnEmptyStore()
    {
        Assert.Empty(await ListAsync());
        Assert.Empty(await ListAsync(AssistantsProtocol.Responses));
    }

    [StoreFact]
    public async Task List_OrdersByKeyOrdinally_AndFiltersByProtocol()
    {
        // Ordinal UTF-16 order: differs from UTF-8 byte order for U+E000..U+FFFF against characters beyond U+FFFF.
        string[] keys = ["b", "a", "B", "aa", "a-1", "a:2", "ä", "Z", "\uFFFD", "\uE000", "😀", "10", "9"];
        foreach (var key in keys)
        {
            await Store.SaveAsync(Binding(key, AssistantsProtocol.Assistants));
        }

        await Store.SaveAsync(Binding("m-responses", AssistantsProtocol.Responses));
        string[] expected = [.. keys.Append("m-responses").Order(StringComparer.Ordinal)];

        Assert.Equal(expected, (await ListAsync()).Select(b => b.ConversationKey));
        Assert.Equal(expected.Where(k => k != "m-responses"), (await ListAsync(AssistantsProtocol.Assistants)).Select(b => b.ConversationKey));
        var responses = Assert.Single(await ListAsync(AssistantsProtocol.Responses));
        Assert.Equal(("m-responses", AssistantsProtocol.Responses), (responses.ConversationKey, responses.Protocol));
    }

    [StoreFact]
    public async Task List_ReturnsWholeBindings_AtTheirCurrentVersion()
    {
        var one = await Store.SaveAsync(Binding("one") with { PreviousThreadIds = ["t0"], ActiveRunStatus = RunStatus.Queued });
        one = await Store.SaveAsync(one with { MessageCount = 3 });
        var two = await Store.SaveAsync(Binding("two") with { PendingToolCalls = [new("call_1", "f", "{}")] });

        var listed = await ListAsync();

        Assert.Equal(2, listed.Count);
        AssertSame(one, listed[0]);
        AssertSame(two, listed[1]);
    }

    [StoreFact]
    public async Task List_HonoursCancellation()
    {
        await Store.SaveAsync(Binding("order-1"));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Store.ListAsync(cancellationToken: cts.Token))
            {
            }
        });
    }

    [StoreFact]
    public async Task UnusualKeys_RoundTrip_AndList()
    {
        string[] keys =
        [
            "key with spaces",
            "colon:separated:key",
            "binding:assistants:looks-like-a-redis-key",
            "{hash}tag",
            "*?[glob]^",
            "quote'\"double",
            "'; DROP TABLE assistants_kit_bindings; --",
            "%_like\\escape",
            "new\nline\ttab\r",
            "\u0001control",
            "emoji 😀👍🏽",
            "中文键",
            "עברית",
            "e\u0301 combining",
            new string('x', 2000),
            " ",
        ];
        foreach (var key in keys)
        {
            var saved = await Store.SaveAsync(Binding(key, threadId: $"thread_for_{key.Length}"));
            AssertSame(saved, await Store.GetAsync(key, AssistantsProtocol.Assistants));
            Assert.Equal(2, (await Store.SaveAsync(saved)).Version);
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), (await ListAsync()).Select(b => b.ConversationKey));
        foreach (var key in keys)
        {
            Assert.True(await Store.DeleteAsync(key, AssistantsProtocol.Assistants), key);
        }

        Assert.Empty(await ListAsync());
    }

    [StoreFact]
    public async Task AssistantRecords_RoundTrip_PerProtocol_LastWriterWins()
    {
        Assert.Null(await Store.GetAssistantAsync("order-support", AssistantsProtocol.Assistants));
        var first = new AssistantRecord("order-support", AssistantsProtocol.Assistants, "asst_1", "v1", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(1)));
        var other = new AssistantRecord("order-support", AssistantsProtocol.Responses, "asst_r", "v1", Time.GetUtcNow());

        await Store.SaveAssistantAsync(first);
        await Store.SaveAssistantAsync(other);
        Assert.Equal(first, await OpenStore().GetAssistantAsync("order-support", AssistantsProtocol.Assistants));

        var second = first with { AssistantId = "asst_2", DefinitionVersion = "v2", UpdatedAt = Time.GetUtcNow() };
        await Store.SaveAssistantAsync(second);

        Assert.Equal(second, await Store.GetAssistantAsync("order-support", AssistantsProtocol.Assistants));
        Assert.Equal(other, await Store.GetAssistantAsync("order-support", AssistantsProtocol.Responses));
        Assert.Null(await Store.GetAssistantAsync("Order-Support", AssistantsProtocol.Assistants));
    }

    [StoreFact]
    public async Task AssistantRecords_WithUnusualNames_RoundTrip()
    {
        string[] names = ["name:with:colons", "'; DELETE FROM assistants_kit_assistants; --", "emoji 😀", "{tag}*?", "new\nline"];
        foreach (var name in names)
        {
            var record = new AssistantRecord(name, AssistantsProtocol.Assistants, $"asst_{name.Length}", "hash", Time.GetUtcNow());
            await Store.SaveAssistantAsync(record);
            Assert.Equal(record, await Store.GetAssistantAsync(name, AssistantsProtocol.Assistants));
        }
    }

    [StoreFact]
    public async Task InvalidArguments_AreRejected()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync("", AssistantsProtocol.Assistants).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeleteAsync("", AssistantsProtocol.Assistants).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(Binding("")).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => Store.SaveAsync(null!).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAssistantAsync("", AssistantsProtocol.Assistants).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => Store.SaveAssistantAsync(null!).AsTask());
    }

    /// <summary>A new binding (version 0) with only the required fields.</summary>
    protected static ConversationBinding Binding(string key, AssistantsProtocol protocol = AssistantsProtocol.Assistants, string threadId = "thread_1") =>
        new() { ConversationKey = key, Protocol = protocol, ThreadId = threadId };

    /// <summary>Asserts two bindings are equal in every property (lists by content, times with their offset).</summary>
    protected static void AssertSame(ConversationBinding expected, ConversationBinding? actual)
    {
        Assert.NotNull(actual);
        foreach (var property in typeof(ConversationBinding).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            switch (e)
            {
                case DateTimeOffset time:
                    Assert.True(time.Equals(a) && time.Offset == ((DateTimeOffset)a!).Offset, $"{property.Name}: expected {time:O}, got {a:O}");
                    break;
                case IEnumerable items and not string:
                    Assert.Equal(items.Cast<object>(), ((IEnumerable)a!).Cast<object>());
                    break;
                default:
                    Assert.True(Equals(e, a), $"{property.Name}: expected '{e}', got '{a}'");
                    break;
            }
        }
    }

    /// <summary>Collects <see cref="IConversationStore.ListAsync"/>.</summary>
    protected async Task<List<ConversationBinding>> ListAsync(AssistantsProtocol? protocol = null)
    {
        var list = new List<ConversationBinding>();
        await foreach (var binding in Store.ListAsync(protocol))
        {
            list.Add(binding);
        }

        return list;
    }

    /// <summary>Starts <paramref name="writers"/> saves at once (threads released together) and collects each outcome.</summary>
    protected static async Task<(int Index, ConversationBinding? Saved, ConversationConcurrencyException? Conflict)[]> RaceAsync(
        int writers, Func<int, Task<ConversationBinding>> save)
    {
        using var start = new Barrier(writers);
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Factory.StartNew(
            async () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(30));
                try
                {
                    return (i, (ConversationBinding?)await save(i), (ConversationConcurrencyException?)null);
                }
                catch (ConversationConcurrencyException ex)
                {
                    return (i, null, ex);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap());
        return await Task.WhenAll(tasks);
    }
}
