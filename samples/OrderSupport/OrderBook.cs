using System.Collections.Concurrent;

namespace OrderSupport;

/// <summary>An order in the sample's in-memory order book.</summary>
public sealed record Order(string OrderId, string Status, string? TrackingNumber, decimal Total, bool Refunded = false);

/// <summary>The sample's small in-memory order book (a stand-in for the shop's order system).</summary>
public sealed class OrderBook
{
    private readonly ConcurrentDictionary<string, Order> _orders = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ORD-12345"] = new("ORD-12345", "shipped", "1Z999AA10123", 89.90m),
        ["ORD-67890"] = new("ORD-67890", "processing", null, 249.00m),
        ["ORD-11111"] = new("ORD-11111", "delivered", "1Z999AA10999", 19.99m),
    };

    public Order? Find(string orderId) => _orders.TryGetValue(orderId.Trim(), out var order) ? order : null;

    public Order? Refund(string orderId)
    {
        var order = Find(orderId);
        if (order is null)
        {
            return null;
        }

        var refunded = order with { Refunded = true, Status = "refunded" };
        _orders[order.OrderId] = refunded;
        return refunded;
    }
}
