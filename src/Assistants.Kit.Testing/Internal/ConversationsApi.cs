using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The Conversations surface: create (with metadata and initial items), get, update (metadata), delete, and the item
/// endpoints (create, list, get, delete). <c>include[]</c> query parameters are accepted and ignored (the emulator keeps no
/// image URLs or search sources to add).
/// </summary>
internal sealed class ConversationsApi : IApiSurface
{
    private readonly EmulatorStore _store;

    public ConversationsApi(EmulatorStore store)
    {
        _store = store;
    }

    public void Register(RouteTable routes)
    {
        routes.Map("POST", "/conversations", Create, assistantsBeta: false);
        routes.Map("GET", "/conversations/{conversation_id}", Get, assistantsBeta: false);
        routes.Map("POST", "/conversations/{conversation_id}", Update, assistantsBeta: false);
        routes.Map("DELETE", "/conversations/{conversation_id}", Delete, assistantsBeta: false);
        routes.Map("POST", "/conversations/{conversation_id}/items", CreateItems, assistantsBeta: false);
        routes.Map("GET", "/conversations/{conversation_id}/items", ListItems, assistantsBeta: false);
        routes.Map("GET", "/conversations/{conversation_id}/items/{item_id}", GetItem, assistantsBeta: false);
        routes.Map("DELETE", "/conversations/{conversation_id}/items/{item_id}", DeleteItem, assistantsBeta: false);
    }

    /// <summary>The conversation, or the service's 404 "Conversation with id '…' not found.".</summary>
    public static ConversationRecord Find(EmulatorStore store, string id) =>
        store.Data.Conversations.TryGetValue(id, out var conversation)
            ? conversation
            : throw new ApiException(404, string.Create(CultureInfo.InvariantCulture, $"Conversation with id '{id}' not found."), "invalid_request_error", null, null);

    private ApiResult Create(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("metadata", "items");
        var metadata = body.Metadata();
        lock (_store.Sync)
        {
            var conversation = new ConversationRecord
            {
                Id = _store.NewHexId("conv_", 48),
                Seq = _store.NextSeq(),
                CreatedAt = EmulatorStore.Seconds(_store.Now),
                Metadata = metadata ?? new(StringComparer.Ordinal),
                Items = ResponseItems.ConversationItems(body, _store),
            };
            _store.Data.Conversations[conversation.Id] = conversation;
            _store.Touch();
            return ApiResult.Ok(ResponsesRender.Conversation(conversation));
        }
    }

    private ApiResult Get(ApiRequest request)
    {
        lock (_store.Sync)
        {
            return ApiResult.Ok(ResponsesRender.Conversation(Find(_store, request["conversation_id"])));
        }
    }

    /// <summary>Replaces the metadata (the recordings cannot tell a replace from a merge; the spec says replace).</summary>
    private ApiResult Update(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("metadata");
        if (!body.Contains("metadata"))
        {
            throw ApiException.MissingParameter("metadata");
        }

        var metadata = body.Metadata();
        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            conversation.Metadata = metadata ?? new(StringComparer.Ordinal);
            _store.Touch();
            return ApiResult.Ok(ResponsesRender.Conversation(conversation));
        }
    }

    private ApiResult Delete(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            _store.Data.Conversations.Remove(conversation.Id);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(conversation.Id, "conversation.deleted"));
        }
    }

    private ApiResult CreateItems(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("items");
        if (!body.Has("items"))
        {
            throw ApiException.MissingParameter("items");
        }

        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            var items = ResponseItems.ConversationItems(body, _store);
            conversation.Items.AddRange(items);
            _store.Touch();
            return ApiResult.Ok(ResponsesRender.ItemList(items, hasMore: false));
        }
    }

    private ApiResult ListItems(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            return ApiResult.Ok(ResponsesRender.ItemList(query.Page(conversation.Items, i => ResponseItems.StringOf(i, "id") ?? "", i => (JsonObject)i.DeepClone())));
        }
    }

    private ApiResult GetItem(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            return ApiResult.Ok(FindItem(conversation, request["item_id"]).DeepClone());
        }
    }

    /// <summary>
    /// Answers <c>{"id","object":"conversation.item.deleted","deleted":true}</c> as in the only wire sample (the spec says
    /// the updated Conversation is returned).
    /// </summary>
    private ApiResult DeleteItem(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var conversation = Find(_store, request["conversation_id"]);
            var item = FindItem(conversation, request["item_id"]);
            conversation.Items.Remove(item);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(request["item_id"], "conversation.item.deleted"));
        }
    }

    private static JsonObject FindItem(ConversationRecord conversation, string itemId) =>
        conversation.Items.Find(i => ResponseItems.StringOf(i, "id") == itemId)
            ?? throw new ApiException(404, string.Create(CultureInfo.InvariantCulture, $"Item with id '{itemId}' not found in conversation."), "invalid_request_error", null, null);
}
