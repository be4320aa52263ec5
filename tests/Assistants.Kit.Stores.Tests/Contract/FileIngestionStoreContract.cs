using Assistants.Kit.Stores.Tests.Support;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// The behaviour every <see cref="IFileIngestionStore"/> shares, written once and run against each store by a derived
/// class: the in-memory reference store, SQLite and Redis.
/// </summary>
public abstract class FileIngestionStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Uploaded = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);

    private IFileIngestionStore? _store;

    /// <summary>Gets the store under test (the first one <see cref="OpenStore"/> returned).</summary>
    protected IFileIngestionStore Store => _store ??= OpenStore();

    /// <summary>Opens a store on this test's storage; a second call gives another instance on the same data where the store has instances.</summary>
    protected abstract IFileIngestionStore OpenStore();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task Get_Unknown_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync("docs", Hash('a')));
        Assert.Empty(await Store.ListAsync("docs").ToListAsync());
    }

    [StoreFact]
    public async Task Save_ThenGet_RoundTripsEveryField()
    {
        var upload = Record("docs", Hash('a'));
        var processed = Record("handbooks/ünïcödé 📚", Hash('b')) with
        {
            Status = FileIngestionStatus.Added,
            VectorStoreId = "vs_123",
            UpdatedAt = new DateTimeOffset(2026, 3, 5, 1, 2, 3, 456, TimeSpan.FromHours(2)),
        };

        await Store.SaveAsync(upload);
        await Store.SaveAsync(processed);

        AssertSame(upload, await Store.GetAsync("docs", Hash('a')));
        AssertSame(processed, await Store.GetAsync("handbooks/ünïcödé 📚", Hash('b')));
        Assert.Null(await Store.GetAsync("docs", Hash('b')));
    }

    [StoreFact]
    public async Task EveryStatus_RoundTrips()
    {
        foreach (var (status, i) in Enum.GetValues<FileIngestionStatus>().Select((s, i) => (s, i)))
        {
            var record = Record("docs", Hash((char)('a' + i))) with { Status = status };
            await Store.SaveAsync(record);
            Assert.Equal(status, (await Store.GetAsync("docs", record.ContentHash))!.Status);
        }
    }

    [StoreFact]
    public async Task Save_SameNameAndHash_ReplacesTheRecordWhole()
    {
        await Store.SaveAsync(Record("docs", Hash('a')) with { VectorStoreId = "vs_old" });
        var later = Record("docs", Hash('a')) with
        {
            FileId = "file-new",
            FileName = "renamed.md",
            Bytes = 99,
            Status = FileIngestionStatus.Failed,
            VectorStoreId = null,
            UpdatedAt = Uploaded.AddMinutes(5),
        };

        await Store.SaveAsync(later);

        AssertSame(later, await Store.GetAsync("docs", Hash('a')));
        Assert.Single(await Store.ListAsync("docs").ToListAsync());
    }

    [StoreFact]
    public async Task Records_AreKeptPerName()
    {
        await Store.SaveAsync(Record("docs", Hash('a')) with { FileId = "file-docs" });
        await Store.SaveAsync(Record("docs-2", Hash('a')) with { FileId = "file-docs-2" });
        await Store.SaveAsync(Record("doc", Hash('a')) with { FileId = "file-doc" });

        Assert.True(await Store.RemoveAsync("docs-2", Hash('a')));

        Assert.Equal("file-docs", (await Store.GetAsync("docs", Hash('a')))!.FileId);
        Assert.Equal("file-doc", (await Store.GetAsync("doc", Hash('a')))!.FileId);
        Assert.Null(await Store.GetAsync("docs-2", Hash('a')));
        Assert.Equal(["file-docs"], (await Store.ListAsync("docs").ToListAsync()).Select(r => r.FileId));
    }

    [StoreFact]
    public async Task Remove_ForgetsOnlyThatRecord_AndSaysWhetherThereWasOne()
    {
        await Store.SaveAsync(Record("docs", Hash('a')));
        await Store.SaveAsync(Record("docs", Hash('b')));

        Assert.True(await Store.RemoveAsync("docs", Hash('a')));
        Assert.False(await Store.RemoveAsync("docs", Hash('a')));
        Assert.False(await Store.RemoveAsync("elsewhere", Hash('b')));

        Assert.Null(await Store.GetAsync("docs", Hash('a')));
        Assert.NotNull(await Store.GetAsync("docs", Hash('b')));
    }

    [StoreFact]
    public async Task List_ReturnsTheNamesRecords_OrderedByHash()
    {
        foreach (var c in "dbca")
        {
            await Store.SaveAsync(Record("docs", Hash(c)));
        }

        await Store.SaveAsync(Record("other", Hash('e')));

        var listed = await Store.ListAsync("docs").ToListAsync();

        Assert.Equal([Hash('a'), Hash('b'), Hash('c'), Hash('d')], listed.Select(r => r.ContentHash));
        Assert.All(listed, r => AssertSame(Record("docs", r.ContentHash), r));
    }

    [StoreFact]
    public async Task ANewInstance_OverTheSameStorage_SeesTheRecords()
    {
        var record = Record("docs", Hash('a')) with { Status = FileIngestionStatus.Added, VectorStoreId = "vs_1" };
        await Store.SaveAsync(record);
        await Store.SaveAsync(Record("docs", Hash('b')));
        Assert.True(await Store.RemoveAsync("docs", Hash('b')));

        var restarted = OpenStore();

        AssertSame(record, await restarted.GetAsync("docs", Hash('a')));
        Assert.Equal([Hash('a')], (await restarted.ListAsync("docs").ToListAsync()).Select(r => r.ContentHash));
    }

    [StoreFact]
    public async Task InvalidRecords_AreRefused_AndNothingIsStored()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(Record("", Hash('a'))).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(Record("docs", "")).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(Record("docs", Hash('a')) with { FileId = "" }).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(Record("docs", Hash('a')) with { Bytes = -1 }).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync("", Hash('a')).AsTask());

        Assert.Empty(await Store.ListAsync("docs").ToListAsync());
    }

    /// <summary>A 64-character hash made of one repeated hex digit (distinct digits sort in their order).</summary>
    protected static string Hash(char digit) => new(digit, 64);

    /// <summary>An upload record with every field set.</summary>
    protected static FileIngestionRecord Record(string name, string hash) =>
        new(name, hash, $"file-{hash[..1]}", "handbook.md", 1234, FileIngestionStatus.Uploaded)
        {
            VectorStoreId = "vs_1",
            CreatedAt = Uploaded,
            UpdatedAt = Uploaded,
        };

    /// <summary>Every field equal, the times to the tick and with their offsets.</summary>
    protected static void AssertSame(FileIngestionRecord expected, FileIngestionRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected, actual);
        Assert.Equal((expected.CreatedAt.Ticks, expected.CreatedAt.Offset), (actual.CreatedAt.Ticks, actual.CreatedAt.Offset));
        Assert.Equal((expected.UpdatedAt.Ticks, expected.UpdatedAt.Offset), (actual.UpdatedAt.Ticks, actual.UpdatedAt.Offset));
    }
}
