using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Assistants.Kit.Protocols.Internal;
using Microsoft.Extensions.Logging;
using OpenAI.Conversations;

namespace Assistants.Kit.Migration.Internal;

/// <summary>
/// Writes conversations on the Responses-protocol target through the official <see cref="ConversationClient"/>'s
/// protocol methods. Every write goes through the kit's <see cref="WriteReconciler"/>: a write that failed ambiguously
/// is looked for (items by content right after the last item known to be carried, metadata by value) and adopted
/// when it landed, re-sent only when it did not.
/// </summary>
internal sealed class TargetConversationWriter
{
    private readonly MigrationClients _clients;
    private readonly WriteReconciler _reconciler;
    private readonly ILogger _logger;

    public TargetConversationWriter(MigrationClients clients, WriteReconciler reconciler, ILogger logger)
    {
        _clients = clients;
        _reconciler = reconciler;
        _logger = logger;
    }

    private ConversationClient Client => _clients.Target;

    /// <summary>Gets a conversation, or <see langword="null"/> when the target does not know it.</summary>
    public Task<JsonObject?> GetConversationAsync(string conversationId, CancellationToken cancellationToken) =>
        GuardAsync(() => TryGetAsync(conversationId, cancellationToken), cancellationToken);

    /// <summary>
    /// Creates an empty conversation with <paramref name="metadata"/>. Conversations cannot be listed, so a creation
    /// that failed ambiguously cannot be found again: it is sent again (an empty conversation may be left behind).
    /// </summary>
    public Task<string> CreateConversationAsync(string threadId, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        GuardAsync(() => _reconciler.ExecuteAsync(
            "Create conversation",
            "/conversations",
            "migrate:" + threadId,
            async ct =>
            {
                var body = new JsonObject { ["metadata"] = Json(metadata) };
                var result = await Client.CreateConversationAsync(Content(body), Options(ct)).ConfigureAwait(false);
                return Parse(result)["id"]!.GetValue<string>();
            },
            _ =>
            {
                MigrationLog.ConversationCreateResent(_logger, threadId);
                return Task.FromResult<string?>(null);
            },
            static id => id,
            cancellationToken), cancellationToken);

    /// <summary>Deletes a conversation; best effort (used to withdraw a conversation another migrator beat).</summary>
    public async Task<bool> TryDeleteConversationAsync(string conversationId, CancellationToken cancellationToken)
    {
        try
        {
            await Client.DeleteConversationAsync(conversationId, Options(cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (MigrationRemoteException.IsRemote(ex, cancellationToken))
        {
            return false;
        }
    }

    /// <summary>Replaces the conversation's metadata (idempotent: an ambiguous failure is checked by reading it back).</summary>
    public Task UpdateMetadataAsync(string conversationId, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        GuardAsync(() => _reconciler.ExecuteAsync(
            "Update conversation metadata",
            $"/conversations/{conversationId}",
            "migrate:" + conversationId,
            async ct =>
            {
                var body = new JsonObject { ["metadata"] = Json(metadata) };
                var result = await Client.UpdateConversationAsync(conversationId, Content(body), Options(ct)).ConfigureAwait(false);
                return Parse(result);
            },
            async ct =>
            {
                var current = await TryGetAsync(conversationId, ct).ConfigureAwait(false);
                return current is not null && Metadata(current).OrderBy(p => p.Key, StringComparer.Ordinal)
                    .SequenceEqual(metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) ? current : null;
            },
            _ => conversationId,
            cancellationToken), cancellationToken);

    /// <summary>
    /// The IDs of the items right after <paramref name="afterItemId"/> (from the start when <see langword="null"/>)
    /// that match <paramref name="expected"/> in order: the prefix of it already in the conversation.
    /// </summary>
    public Task<List<string>> MatchPrefixAsync(string conversationId, string? afterItemId, IReadOnlyList<JsonObject> expected, CancellationToken cancellationToken) =>
        GuardAsync(() => MatchAsync(conversationId, afterItemId, expected, cancellationToken), cancellationToken);

    /// <summary>
    /// Appends <paramref name="items"/> (at most 20) after <paramref name="afterItemId"/>, the last item known to be
    /// in the conversation. A write that failed ambiguously is adopted when all its items follow that item, re-sent when
    /// none does.
    /// </summary>
    /// <returns>The new items' IDs, in order.</returns>
    public Task<List<string>> AppendItemsAsync(string conversationId, string? afterItemId, IReadOnlyList<JsonObject> items, string operationId, CancellationToken cancellationToken) =>
        GuardAsync(() => _reconciler.ExecuteAsync(
            "Create conversation items",
            $"/conversations/{conversationId}/items",
            operationId,
            async ct =>
            {
                var body = new JsonObject { ["items"] = new JsonArray([.. items.Select(i => (JsonNode)i.DeepClone())]) };
                var result = await Client.CreateConversationItemsAsync(conversationId, Content(body), include: null, Options(ct)).ConfigureAwait(false);
                var ids = (Parse(result)["data"] as JsonArray ?? []).OfType<JsonObject>().Select(i => i["id"]!.GetValue<string>()).ToList();
                return ids.Count == items.Count
                    ? ids
                    : throw new InvalidOperationException($"The target answered {ids.Count} items for the {items.Count} written to conversation {conversationId}.");
            },
            async ct =>
            {
                var landed = await MatchAsync(conversationId, afterItemId, items, ct).ConfigureAwait(false);
                return landed.Count == items.Count ? landed
                    : landed.Count == 0 ? null
                    : throw new MigrationConflictException($"Only {landed.Count} of {items.Count} items written to conversation {conversationId} are there; the conversation needs a manual check.");
            },
            static ids => ids[^1],
            cancellationToken), cancellationToken);

    private async Task<List<string>> MatchAsync(string conversationId, string? afterItemId, IReadOnlyList<JsonObject> expected, CancellationToken cancellationToken)
    {
        var matched = new List<string>();
        if (expected.Count == 0)
        {
            return matched;
        }

        await foreach (var page in Client.GetConversationItemsAsync(conversationId, Math.Min(100, expected.Count), "asc", afterItemId, include: null, Options(cancellationToken))
            .GetRawPagesAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in (Parse(page)["data"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (matched.Count == expected.Count || ItemMapper.Fingerprint(item) != ItemMapper.Fingerprint(expected[matched.Count]))
                {
                    return matched;
                }

                matched.Add(item["id"]!.GetValue<string>());
            }

            if (matched.Count == expected.Count)
            {
                break;
            }
        }

        return matched;
    }

    private async Task<JsonObject?> TryGetAsync(string conversationId, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Client.GetConversationAsync(conversationId, Options(cancellationToken)).ConfigureAwait(false);
            return Parse(result);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The string entries of a conversation's metadata.</summary>
    public static Dictionary<string, string> Metadata(JsonObject conversation)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in conversation["metadata"] as JsonObject ?? [])
        {
            if (value is JsonValue v && v.TryGetValue<string>(out var text))
            {
                metadata[key] = text;
            }
        }

        return metadata;
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (MigrationRemoteException.IsRemote(ex, cancellationToken))
        {
            throw MigrationRemoteException.From(MigrationEndpoint.Target, ex, _clients.TargetApiKey, _clients.SourceApiKey);
        }
    }

    private static JsonObject Json(IReadOnlyDictionary<string, string> metadata)
    {
        var json = new JsonObject();
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json[key] = value;
        }

        return json;
    }

    private static BinaryContent Content(JsonNode body) => BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));

    private static RequestOptions Options(CancellationToken cancellationToken) => new() { CancellationToken = cancellationToken };

    private static JsonObject Parse(ClientResult result) => JsonNode.Parse(result.GetRawResponse().Content)!.AsObject();
}
