using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>
/// <see cref="IConversationStore"/> on Redis. A binding is a hash (<c>version</c>, <c>fence</c>, <c>data</c>) under
/// <c>{prefix}binding:{protocol}:{key}</c>; saves go through a Lua script that compares the stored fencing token and
/// version and writes, atomically, so two app instances can never both win and a writer whose lease was taken over is
/// refused. <c>{prefix}bindings:{protocol}</c> is the set of keys <see cref="ListAsync"/> reads; members whose binding
/// expired are removed when a list meets them.
/// </summary>
/// <remarks>
/// StackExchange.Redis cannot cancel a command once sent: the cancellation token is checked before each operation, never
/// in the middle of a save (whose outcome would then be unknown).
/// </remarks>
internal sealed class RedisConversationStore : IConversationStore
{
    private const int ListBatchSize = 128;

    // KEYS[1] binding hash, KEYS[2] index set; ARGV[1] expected version, ARGV[2] new version, ARGV[3] data,
    // ARGV[4] expiry in milliseconds (0: none), ARGV[5] index member (the conversation key), ARGV[6] the writer's fencing
    // token. Tokens are 64-bit integers as invariant decimal text; they are compared exactly as text (Lua numbers are
    // doubles, which cannot tell large neighbours apart). As in the in-memory store, the token is compared first, and
    // only against a stored binding (a hash without a fence field, written before fencing, stores 0).
    // Returns {1, new version} when written, {0, stored version} when the versions differ, {2, stored token} when the
    // writer's token is lower than the stored one.
    private const string SaveScript = """
        local function lower(a, b)
            local an, bn = string.sub(a, 1, 1) == '-', string.sub(b, 1, 1) == '-'
            if an ~= bn then
                return an
            end
            if an then
                a, b = string.sub(b, 2), string.sub(a, 2)
            end
            if #a ~= #b then
                return #a < #b
            end
            for i = 1, #a do
                local x, y = string.byte(a, i), string.byte(b, i)
                if x ~= y then
                    return x < y
                end
            end
            return false
        end
        local stored = redis.call('HMGET', KEYS[1], 'version', 'fence')
        local current = stored[1] or '0'
        if stored[1] then
            local fence = stored[2] or '0'
            if lower(ARGV[6], fence) then
                return {2, fence}
            end
        end
        if current ~= ARGV[1] then
            return {0, current}
        end
        redis.call('HSET', KEYS[1], 'version', ARGV[2], 'fence', ARGV[6], 'data', ARGV[3])
        if ARGV[4] ~= '0' then
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
        else
            redis.call('PERSIST', KEYS[1])
        end
        redis.call('SADD', KEYS[2], ARGV[5])
        return {1, ARGV[2]}
        """;

    // KEYS[1] binding hash, KEYS[2] index set; ARGV[1] index member. Returns how many bindings were deleted.
    private const string DeleteScript = """
        local deleted = redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], ARGV[1])
        return deleted
        """;

    // Removes an index member whose binding is gone (expired), unless it was saved again meanwhile.
    private const string PruneScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
            return redis.call('SREM', KEYS[2], ARGV[1])
        end
        return 0
        """;

    private static readonly RedisValue[] BindingFields = ["version", "data", "fence"];

    private readonly RedisConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly string _ttlMilliseconds;

    public RedisConversationStore(RedisConnection connection, TimeProvider timeProvider)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _ttlMilliseconds = connection.BindingTimeToLive is { } ttl
            ? ((long)Math.Ceiling(ttl.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)
            : "0";
    }

    public async ValueTask<ConversationBinding?> GetAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var key = BindingKey(protocol, conversationKey);
        var values = await database.HashGetAsync(key, BindingFields).ConfigureAwait(false);
        return ReadBinding(key, values);
    }

    public async ValueTask<ConversationBinding> SaveAsync(ConversationBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentException.ThrowIfNullOrEmpty(binding.ConversationKey);
        ArgumentNullException.ThrowIfNull(binding.ThreadId);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _timeProvider.GetUtcNow();
        var stored = binding.Version == 0
            ? binding with { Version = 1, UpdatedAt = now, CreatedAt = binding.CreatedAt == default ? now : binding.CreatedAt }
            : binding with { Version = binding.Version + 1, UpdatedAt = now };
        var data = JsonSerializer.Serialize(StoredBinding.From(stored), RedisJsonContext.Default.StoredBinding);

        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(
            SaveScript,
            [BindingKey(binding.Protocol, binding.ConversationKey), IndexKey(binding.Protocol)],
            [
                binding.Version.ToString(CultureInfo.InvariantCulture),
                stored.Version.ToString(CultureInfo.InvariantCulture),
                data,
                _ttlMilliseconds,
                binding.ConversationKey,
                binding.FencingToken.ToString(CultureInfo.InvariantCulture),
            ]).ConfigureAwait(false);
        var outcome = (RedisResult[])result!;
        switch ((long)outcome[0])
        {
            case 1:
                break;
            case 2:
                throw new ConversationFencedException(binding.ConversationKey, binding.FencingToken, (long)outcome[1]);
            default:
                throw new ConversationConcurrencyException(binding.ConversationKey, binding.Protocol, binding.Version, (long)outcome[1]);
        }

        return stored;
    }

    public async ValueTask<bool> DeleteAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(
            DeleteScript,
            [BindingKey(protocol, conversationKey), IndexKey(protocol)],
            [conversationKey]).ConfigureAwait(false);
        return (long)result > 0;
    }

    public async IAsyncEnumerable<ConversationBinding> ListAsync(AssistantsProtocol? protocol = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<(string Key, AssistantsProtocol Protocol)>();
        foreach (var p in protocol is { } one ? [one] : Enum.GetValues<AssistantsProtocol>())
        {
            await foreach (var member in database.SetScanAsync(IndexKey(p), pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(((string)member!, p));
            }
        }

        entries.Sort(static (a, b) =>
        {
            var byKey = string.CompareOrdinal(a.Key, b.Key);
            return byKey != 0 ? byKey : a.Protocol.CompareTo(b.Protocol);
        });

        for (var start = 0; start < entries.Count; start += ListBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = entries.GetRange(start, Math.Min(ListBatchSize, entries.Count - start));

            // Issued together: StackExchange.Redis pipelines them on the one connection.
            var reads = batch.Select(e => database.HashGetAsync(BindingKey(e.Protocol, e.Key), BindingFields)).ToArray();
            for (var i = 0; i < batch.Count; i++)
            {
                var key = BindingKey(batch[i].Protocol, batch[i].Key);
                if (ReadBinding(key, await reads[i].ConfigureAwait(false)) is { } binding)
                {
                    yield return binding;
                }
                else
                {
                    await database.ScriptEvaluateAsync(PruneScript, [key, IndexKey(batch[i].Protocol)], [batch[i].Key]).ConfigureAwait(false);
                }
            }
        }
    }

    public async ValueTask<AssistantRecord?> GetAssistantAsync(string name, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var value = await database.StringGetAsync(AssistantKey(protocol, name)).ConfigureAwait(false);
        if (value.IsNull)
        {
            return null;
        }

        var stored = JsonSerializer.Deserialize((string)value!, RedisJsonContext.Default.StoredAssistant)
            ?? throw new InvalidOperationException($"The Redis key '{AssistantKey(protocol, name)}' does not hold an assistant record.");
        return new AssistantRecord(name, protocol, stored.AssistantId, stored.DefinitionVersion, stored.UpdatedAt);
    }

    public async ValueTask SaveAssistantAsync(AssistantRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrEmpty(record.Name);
        ArgumentNullException.ThrowIfNull(record.AssistantId);
        ArgumentNullException.ThrowIfNull(record.DefinitionVersion);
        cancellationToken.ThrowIfCancellationRequested();
        var database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(new StoredAssistant(record.AssistantId, record.DefinitionVersion, record.UpdatedAt), RedisJsonContext.Default.StoredAssistant);
        await database.StringSetAsync(AssistantKey(record.Protocol, record.Name), json).ConfigureAwait(false);
    }

    internal RedisKey BindingKey(AssistantsProtocol protocol, string conversationKey) =>
        $"{_connection.KeyPrefix}binding:{ProtocolSegment(protocol)}:{conversationKey}";

    internal RedisKey IndexKey(AssistantsProtocol protocol) => $"{_connection.KeyPrefix}bindings:{ProtocolSegment(protocol)}";

    internal RedisKey AssistantKey(AssistantsProtocol protocol, string name) =>
        $"{_connection.KeyPrefix}assistant:{ProtocolSegment(protocol)}:{name}";

    private static string ProtocolSegment(AssistantsProtocol protocol) => protocol switch
    {
        AssistantsProtocol.Assistants => "assistants",
        AssistantsProtocol.Responses => "responses",
        _ => ((int)protocol).ToString(CultureInfo.InvariantCulture),
    };

    private static ConversationBinding? ReadBinding(RedisKey key, RedisValue[] values)
    {
        if (values[0].IsNull)
        {
            return null;
        }

        long fencingToken = 0;
        if (values[1].IsNull
            || !long.TryParse((string?)values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || (!values[2].IsNull && !long.TryParse((string?)values[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out fencingToken)))
        {
            throw new InvalidOperationException($"The Redis key '{key}' does not hold a conversation binding.");
        }

        var stored = JsonSerializer.Deserialize((string)values[1]!, RedisJsonContext.Default.StoredBinding)
            ?? throw new InvalidOperationException($"The Redis key '{key}' does not hold a conversation binding.");
        return stored.ToBinding(version, fencingToken);
    }
}
