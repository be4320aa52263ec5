namespace Assistants.Kit;

/// <summary>What a ledger entry records.</summary>
public enum UsageEntryKind
{
    /// <summary>A run (or a Responses turn loop): its tokens and tool fees.</summary>
    Run,

    /// <summary>Vector storage accrued over a period.</summary>
    VectorStorage,
}

/// <summary>One entry of the usage ledger. Entries are only appended, never changed.</summary>
public sealed record UsageEntry
{
    /// <summary>Gets when the usage was recorded (the end of the run, or of the storage period).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets what the entry records.</summary>
    public UsageEntryKind Kind { get; init; } = UsageEntryKind.Run;

    /// <summary>Gets the application's conversation key.</summary>
    public string? ConversationKey { get; init; }

    /// <summary>Gets the thread (Assistants) or conversation (Responses) ID.</summary>
    public string? ThreadId { get; init; }

    /// <summary>Gets the run (Assistants) or first response (Responses) ID.</summary>
    public string? RunId { get; init; }

    /// <summary>Gets the assistant ID.</summary>
    public string? AssistantId { get; init; }

    /// <summary>Gets the assistant's name.</summary>
    public string? AssistantName { get; init; }

    /// <summary>Gets the model as the service reported it (for example <c>gpt-4.1-mini-2025-04-14</c>).</summary>
    public string? Model { get; init; }

    /// <summary>Gets the caller-defined tags (for example tenant and feature).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = EmptyTags;

    /// <summary>Gets the tokens.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>Gets the cost of the tokens in US dollars; <see langword="null"/> when the model is not priced.</summary>
    public decimal? TokenCost { get; init; }

    /// <summary>Gets the cost of code interpreter sessions, file search calls and vector storage, in US dollars.</summary>
    public decimal ToolCost { get; init; }

    /// <summary>Gets the code interpreter sessions charged.</summary>
    public int CodeInterpreterSessions { get; init; }

    /// <summary>Gets the file search calls charged.</summary>
    public int FileSearchCalls { get; init; }

    /// <summary>Gets the vector store of a <see cref="UsageEntryKind.VectorStorage"/> entry.</summary>
    public string? VectorStoreId { get; init; }

    /// <summary>Gets the gigabyte-days of a <see cref="UsageEntryKind.VectorStorage"/> entry.</summary>
    public decimal VectorStorageGigabyteDays { get; init; }

    /// <summary>Gets the total cost in US dollars; <see langword="null"/> when the model is not priced.</summary>
    public decimal? Cost => TokenCost + ToolCost;

    internal static IReadOnlyDictionary<string, string> EmptyTags { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal).AsReadOnly();
}

/// <summary>
/// Which ledger entries to total. Every property set narrows the query; <see cref="From"/> and <see cref="To"/> form the
/// half-open window <c>[From, To)</c>.
/// </summary>
public sealed record UsageQuery
{
    /// <summary>Gets the first instant counted; <see langword="null"/> for no lower bound.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Gets the first instant not counted; <see langword="null"/> for no upper bound.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Gets the conversation key to match.</summary>
    public string? ConversationKey { get; init; }

    /// <summary>Gets the thread or conversation ID to match.</summary>
    public string? ThreadId { get; init; }

    /// <summary>Gets the run ID to match.</summary>
    public string? RunId { get; init; }

    /// <summary>Gets the assistant ID to match.</summary>
    public string? AssistantId { get; init; }

    /// <summary>
    /// Gets the model to match, case-insensitively: an entry matches when its model equals this, or equals it once its
    /// date suffix is stripped (<c>gpt-4.1-mini</c> matches <c>gpt-4.1-mini-2025-04-14</c>).
    /// </summary>
    public string? Model { get; init; }

    /// <summary>Gets tags an entry must all have, with these values.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Gets the kind of entry to match.</summary>
    public UsageEntryKind? Kind { get; init; }

    /// <summary>Gets a query of everything recorded in a window.</summary>
    /// <param name="window">The window.</param>
    /// <returns>The query.</returns>
    public static UsageQuery In(UsageWindow window) => new() { From = window.Start, To = window.End };

    /// <summary>Gets whether an entry matches the query (the reference semantics a ledger implements).</summary>
    /// <param name="entry">The entry.</param>
    /// <returns><see langword="true"/> when the entry is counted.</returns>
    public bool Matches(UsageEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if ((From is { } from && entry.Timestamp < from)
            || (To is { } to && entry.Timestamp >= to)
            || (Kind is { } kind && entry.Kind != kind)
            || !EqualsIfSet(ConversationKey, entry.ConversationKey)
            || !EqualsIfSet(ThreadId, entry.ThreadId)
            || !EqualsIfSet(RunId, entry.RunId)
            || !EqualsIfSet(AssistantId, entry.AssistantId))
        {
            return false;
        }

        if (Model is not null
            && (entry.Model is null
                || !(string.Equals(entry.Model, Model, StringComparison.OrdinalIgnoreCase)
                    || string.Equals(PriceTable.StripDateSuffix(entry.Model), Model, StringComparison.OrdinalIgnoreCase))))
        {
            return false;
        }

        if (Tags is not null)
        {
            foreach (var (name, value) in Tags)
            {
                if (!entry.Tags.TryGetValue(name, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool EqualsIfSet(string? wanted, string? actual) =>
        wanted is null || string.Equals(wanted, actual, StringComparison.Ordinal);
}

/// <summary>Totals of the ledger entries a query matched.</summary>
public sealed record UsageTotals
{
    /// <summary>Gets empty totals.</summary>
    public static UsageTotals Empty { get; } = new();

    /// <summary>Gets how many entries were counted.</summary>
    public long Entries { get; init; }

    /// <summary>Gets the tokens.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>Gets the cost in US dollars of everything priced (tokens of priced models, and all tool fees).</summary>
    public decimal Cost { get; init; }

    /// <summary>Gets how many entries had tokens of a model that is not priced (their tokens are not in <see cref="Cost"/>).</summary>
    public long UnpricedEntries { get; init; }

    /// <summary>Gets the code interpreter sessions charged.</summary>
    public long CodeInterpreterSessions { get; init; }

    /// <summary>Gets the file search calls charged.</summary>
    public long FileSearchCalls { get; init; }

    /// <summary>Gets the vector storage gigabyte-days.</summary>
    public decimal VectorStorageGigabyteDays { get; init; }

    /// <summary>Gets whether every entry counted was priced.</summary>
    public bool CostIsComplete => UnpricedEntries == 0;

    /// <summary>Adds an entry to the totals.</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The new totals.</returns>
    public UsageTotals Add(UsageEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return this with
        {
            Entries = Entries + 1,
            Usage = Usage + entry.Usage,
            Cost = Cost + (entry.TokenCost ?? 0m) + entry.ToolCost,
            UnpricedEntries = UnpricedEntries + (entry.TokenCost is null ? 1 : 0),
            CodeInterpreterSessions = CodeInterpreterSessions + entry.CodeInterpreterSessions,
            FileSearchCalls = FileSearchCalls + entry.FileSearchCalls,
            VectorStorageGigabyteDays = VectorStorageGigabyteDays + entry.VectorStorageGigabyteDays,
        };
    }
}

/// <summary>
/// The usage ledger: entries are appended and totals are queried by window, key, thread, run, assistant, model and tags.
/// The kit's default keeps entries in memory (lost on restart); durable implementations (SQLite, Redis) append a row per
/// entry and answer <see cref="GetTotalsAsync"/> with a windowed aggregate following <see cref="UsageQuery.Matches"/>.
/// Implementations must be safe for concurrent use.
/// </summary>
public interface IUsageLedger
{
    /// <summary>Appends an entry.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the entry is stored.</returns>
    ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Totals the entries a query matches.</summary>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The totals.</returns>
    ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default);
}

/// <summary>
/// The default <see cref="IUsageLedger"/>: entries in this process's memory, never evicted, lost on restart. For
/// development, tests and single-process apps; register a durable ledger with <c>UseUsageLedger</c> otherwise.
/// </summary>
public sealed class InMemoryUsageLedger : IUsageLedger
{
    private readonly List<UsageEntry> _entries = [];

    // Every run ends with a query of its conversation's totals: indexed, so that query reads one conversation's entries,
    // not every entry the process ever recorded.
    private readonly Dictionary<string, List<UsageEntry>> _byConversation = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Gets how many entries are stored.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask AppendAsync(UsageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _entries.Add(entry);
            if (entry.ConversationKey is { } key)
            {
                if (!_byConversation.TryGetValue(key, out var conversation))
                {
                    _byConversation[key] = conversation = [];
                }

                conversation.Add(entry);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<UsageTotals> GetTotalsAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var totals = UsageTotals.Empty;
        lock (_gate)
        {
            foreach (var entry in Candidates(query))
            {
                if (query.Matches(entry))
                {
                    totals = totals.Add(entry);
                }
            }
        }

        return ValueTask.FromResult(totals);
    }

    /// <summary>Gets a copy of the entries a query matches, oldest first.</summary>
    /// <param name="query">The query.</param>
    /// <returns>The entries.</returns>
    public IReadOnlyList<UsageEntry> GetEntries(UsageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            return Candidates(query).Where(query.Matches).ToArray();
        }
    }

    /// <summary>The entries a query can match, oldest first (every one of them still goes through <see cref="UsageQuery.Matches"/>).</summary>
    private List<UsageEntry> Candidates(UsageQuery query) =>
        query.ConversationKey is not { } key ? _entries
        : _byConversation.TryGetValue(key, out var conversation) ? conversation
        : [];
}
