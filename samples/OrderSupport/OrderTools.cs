using System.ComponentModel;
using Assistants.Kit;

namespace OrderSupport;

/// <summary>The Order Support agent's tools, resolved from DI per run.</summary>
public sealed class OrderTools(OrderBook orders)
{
    /// <summary>Looks up an order.</summary>
    [AssistantTool("get_order_status", Description = "Looks up an order's status and tracking number.")]
    public object GetOrderStatus([Description("The order ID, e.g. ORD-12345.")] string order_id)
    {
        var order = orders.Find(order_id);
        return order is null
            ? new { order_id, found = false }
            : new { order_id = order.OrderId, found = true, status = order.Status, tracking_number = order.TrackingNumber };
    }

    /// <summary>Refunds an order.</summary>
    [AssistantTool("process_refund", Description = "Refunds an order in full.", RequiresApproval = true)]
    public object ProcessRefund(
        [Description("The order ID, e.g. ORD-12345.")] string order_id,
        [Description("Why the customer wants the refund.")] string reason)
    {
        var order = orders.Refund(order_id);
        return order is null
            ? new { order_id, refunded = false, error = "no such order" }
            : new { order_id = order.OrderId, refunded = true, amount = order.Total, reason };
    }
}
