using System.ComponentModel;
using System.Globalization;
using System.Text.Json;

namespace Assistants.Kit.Tests.Tools;

public enum TemperatureUnit
{
    Celsius,
    Fahrenheit,
}

public sealed record Address([property: Description("Street and number")] string Street, string City, string? Zip);

public sealed class LineItem
{
    [Description("Stock keeping unit")]
    public string Sku { get; set; } = "";

    public int Quantity { get; set; }
}

public sealed record OrderRequest(string CustomerId, Address ShipTo, List<LineItem> Items);

/// <summary>One tool per parameter shape; each answers with what it received, so binding is visible in the output.</summary>
public sealed class ShapeTools
{
    [AssistantTool("echo_string", Description = "Echoes a text.")]
    public static string EchoString([Description("The text to echo")] string text) => text;

    [AssistantTool("numbers")]
    public static string Numbers(int count, long big, double ratio, decimal price) =>
        string.Create(CultureInfo.InvariantCulture, $"{count}|{big}|{ratio}|{price}");

    [AssistantTool("flag")]
    public static string Flag(bool enabled) => enabled ? "on" : "off";

    [AssistantTool("convert")]
    public static string Convert([Description("Target unit")] TemperatureUnit unit) => unit.ToString();

    [AssistantTool("schedule")]
    public static string Schedule(DateTimeOffset at, Guid id) =>
        string.Create(CultureInfo.InvariantCulture, $"{at:O}|{id:D}");

    [AssistantTool("place_order")]
    public static string PlaceOrder(OrderRequest order) =>
        $"{order.CustomerId}|{order.ShipTo.Street}|{order.ShipTo.City}|{order.ShipTo.Zip ?? "-"}|" +
        string.Join(",", order.Items.Select(i => $"{i.Sku}x{i.Quantity}"));

    [AssistantTool("collections")]
    public static string Collections(int[] values, List<string> tags, IReadOnlyList<LineItem> items) =>
        $"{values.Sum()}|{string.Join("+", tags)}|{items.Count}";

    [AssistantTool("search")]
    public static string Search(
        string query,
        int? limit,
        string sort = "relevance",
        TemperatureUnit unit = TemperatureUnit.Celsius,
        bool exact = false,
        string? note = null) =>
        $"{query}|{limit?.ToString(CultureInfo.InvariantCulture) ?? "null"}|{sort}|{unit}|{exact}|{note ?? "null"}";

    [AssistantTool("injected")]
    public static string Injected(string value, CancellationToken cancellationToken, ToolCallContext context, IServiceProvider services) =>
        JsonSerializer.Serialize(new
        {
            value,
            cancellable = cancellationToken.CanBeCanceled,
            context.ConversationKey,
            context.ThreadId,
            context.RunId,
            context.ToolCallId,
            context.ToolName,
            context.ArgumentsJson,
            hasServices = services is not null,
        });
}
