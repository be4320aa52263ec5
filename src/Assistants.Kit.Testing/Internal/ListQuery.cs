using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>The cursor paging of every list endpoint: <c>limit</c> (1–100, default 20), <c>order</c> (default desc), <c>after</c>, <c>before</c>.</summary>
internal sealed class ListQuery
{
    public int Limit { get; private init; } = 20;

    public bool Descending { get; private init; } = true;

    public string? After { get; private init; }

    public string? Before { get; private init; }

    public static ListQuery Read(ApiRequest request)
    {
        var query = new JsonObject();
        if (request.Query.TryGetValue("limit", out var limit))
        {
            var text = limit.ToString();
            query["limit"] = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
                ? JsonValue.Create(number)
                : JsonValue.Create(text);
        }

        if (request.Query.TryGetValue("order", out var order))
        {
            query["order"] = order.ToString();
        }

        var body = new JsonBody(query);
        return new ListQuery
        {
            Limit = body.Integer("limit", 1, 100) ?? 20,
            Descending = (body.Enum("order", "asc", "desc") ?? "desc") == "desc",
            After = NonEmpty(request, "after"),
            Before = NonEmpty(request, "before"),
        };
    }

    /// <summary>
    /// Pages <paramref name="itemsInCreationOrder"/>: <c>after</c> returns the items following the cursor in the
    /// requested order, <c>before</c> the <c>limit</c> items just preceding it; <c>has_more</c> tells whether more items
    /// lie beyond the page in the paging direction. An unknown cursor gives an empty page.
    /// </summary>
    public JsonObject Page<T>(IReadOnlyList<T> itemsInCreationOrder, Func<T, string> id, Func<T, JsonObject> render)
    {
        var ordered = Descending ? itemsInCreationOrder.Reverse().ToList() : itemsInCreationOrder.ToList();
        var start = 0;
        var end = ordered.Count;
        if (After is not null)
        {
            var index = ordered.FindIndex(item => id(item) == After);
            if (index < 0)
            {
                return Render.List([], null, null, false);
            }

            start = index + 1;
        }

        if (Before is not null)
        {
            var index = ordered.FindIndex(item => id(item) == Before);
            if (index < 0)
            {
                return Render.List([], null, null, false);
            }

            end = Math.Min(end, index);
        }

        var available = Math.Max(0, end - start);
        var take = Math.Min(Limit, available);
        var pageStart = Before is not null && After is null ? end - take : start;
        var page = ordered.GetRange(pageStart, take);
        return Render.List(
            page.Select(render),
            page.Count > 0 ? id(page[0]) : null,
            page.Count > 0 ? id(page[^1]) : null,
            available > take);
    }

    private static string? NonEmpty(ApiRequest request, string name) =>
        request.Query.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value.ToString()) ? value.ToString() : null;
}
