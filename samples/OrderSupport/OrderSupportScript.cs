using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Assistants.Kit.Testing;

namespace OrderSupport;

/// <summary>The assistant's instructions, and the emulator's scripted model for the Order Support scenario.</summary>
public static partial class OrderSupportScript
{
    public const string Instructions =
        "You are the order support agent of an online shop. Look orders up with get_order_status before answering " +
        "questions about them, and use process_refund when the customer asks for a refund. Answer briefly.";

    /// <summary>
    /// Scripts the emulator's model (used when no server is configured): a message that names an order (ORD-…) gets
    /// <c>get_order_status</c>; one that also asks for a refund gets <c>get_order_status</c> and <c>process_refund</c> in
    /// parallel, in one round (the refund needs a person's approval, so the lookup has finished before the refund runs);
    /// the reply uses the outputs. Anything else gets the emulator's default reply.
    /// </summary>
    public static void Apply(EmulatorScript script)
    {
        script.When(ctx => OrderId(ctx.LatestUserMessage) is not null && AsksForRefund(ctx.LatestUserMessage))
            .CallTools(ctx =>
            [
                ("get_order_status", Args(("order_id", OrderId(ctx.LatestUserMessage)!))),
                ("process_refund", Args(("order_id", OrderId(ctx.LatestUserMessage)!), ("reason", "Requested by the customer"))),
            ])
            .Reply(ctx => RefundReply(ctx.ToolOutputs.GetValueOrDefault("get_order_status"), ctx.ToolOutputs.GetValueOrDefault("process_refund")));

        script.When(ctx => OrderId(ctx.LatestUserMessage) is not null)
            .CallTools(ctx => [("get_order_status", Args(("order_id", OrderId(ctx.LatestUserMessage)!)))])
            .Reply(ctx => StatusReply(ctx.ToolOutputs.GetValueOrDefault("get_order_status")));
    }

    private static string? OrderId(string message) => OrderIdPattern().Match(message) is { Success: true } m ? m.Value.ToUpperInvariant() : null;

    private static bool AsksForRefund(string message) => message.Contains("refund", StringComparison.OrdinalIgnoreCase);

    private static string Args(params (string Name, string Value)[] values)
    {
        var json = new JsonObject();
        foreach (var (name, value) in values)
        {
            json[name] = value;
        }

        return json.ToJsonString();
    }

    private static string StatusReply(string? output)
    {
        var status = Parse(output);
        if (status is null || status["found"]?.GetValue<bool>() != true)
        {
            return $"I could not find that order ({status?["order_id"]}).";
        }

        var tracking = status["tracking_number"]?.GetValue<string>();
        return $"Order {status["order_id"]} is {status["status"]}" + (tracking is null ? "." : $"; the tracking number is {tracking}.");
    }

    private static string RefundReply(string? statusOutput, string? refundOutput)
    {
        var refund = Parse(refundOutput);
        if (refund?["error"] is { } error && error.GetValueKind() == JsonValueKind.Object)
        {
            return $"I could not refund the order: {error["message"]}.";
        }

        return refund?["refunded"]?.GetValue<bool>() == true
            ? $"{StatusReply(statusOutput)} I refunded {refund["amount"]} for order {refund["order_id"]}."
            : $"{StatusReply(statusOutput)} I could not refund it ({refund?["error"]}).";
    }

    private static JsonNode? Parse(string? json)
    {
        try
        {
            return json is null ? null : JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"ORD-\d+", RegexOptions.IgnoreCase)]
    private static partial Regex OrderIdPattern();
}
