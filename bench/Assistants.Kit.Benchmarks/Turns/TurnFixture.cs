using System.ComponentModel;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Benchmarks.Turns;

/// <summary>The one tool both sides call: the kit through its executor, the raw side directly.</summary>
public sealed class BenchOrderTools
{
    private static readonly BenchOrderLine[] Lines = [new("BOOT-42", 1), new("SOCK-7", 3)];
    private static readonly DateTimeOffset Updated = new(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);

    /// <summary>Gets the status of an order.</summary>
    /// <param name="orderId">The order ID.</param>
    /// <param name="includeLines">Whether to include the order lines.</param>
    /// <returns>The status.</returns>
    [AssistantTool(TurnScript.ToolName, Description = "Gets the status of an order.")]
    public BenchOrderStatus GetStatus([Description("The order ID, like A-1001")] string orderId, bool includeLines = false) =>
        new(orderId, "shipped", Updated, includeLines ? Lines : null);
}

/// <summary>An order line.</summary>
/// <param name="Sku">The SKU.</param>
/// <param name="Quantity">The quantity.</param>
public sealed record BenchOrderLine(string Sku, int Quantity);

/// <summary>An order's status.</summary>
/// <param name="OrderId">The order ID.</param>
/// <param name="State">The state.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Lines">The lines, when asked for.</param>
public sealed record BenchOrderStatus(string OrderId, string State, DateTimeOffset UpdatedAt, IReadOnlyList<BenchOrderLine>? Lines);

/// <summary>The scripted model both sides talk to: one tool round then a reply, or a plain reply.</summary>
public static class TurnScript
{
    public const string ToolName = "get_order_status";
    public const string ToolArguments = """{"orderId":"A-1001","includeLines":true}""";
    public const string ToolMessage = "Where is order A-1001?";
    public const string PlainMessage = "Hello, no tools needed.";
    public const string PlainReply = "Hello! How can I help you today?";
    public const string ApiKey = "sk-bench-0123456789";
    public const string AssistantName = "bench-orders";

    /// <summary>Messages containing "no tools" get a plain reply; every other run calls the tool once, then replies.</summary>
    public static void Apply(EmulatorScript script)
    {
        ArgumentNullException.ThrowIfNull(script);
        script.WhenUserMessageContains("no tools").Reply(PlainReply);
        script.Default()
            .CallTools((ToolName, ToolArguments))
            .Reply(ctx => "Order A-1001: " + ctx.ToolOutputs.GetValueOrDefault(ToolName, "?"));
    }

    /// <summary>
    /// The kit's side of the comparison: zero poll delays without jitter and without adaptation (a learned schedule from
    /// sub-millisecond runs would turn into timer-resolution sleeps), so both sides send the same requests.
    /// </summary>
    public static void ZeroDelayPolling(AssistantsKitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Polling.InitialDelay = TimeSpan.Zero;
        options.Polling.MinDelay = TimeSpan.Zero;
        options.Polling.Jitter = 0;
        options.Polling.Adaptive = false;
    }

    /// <summary>The primary handler both sides use (the kit's named client gets the same one).</summary>
    public static HttpMessageHandler CreateHandler() => new SocketsHttpHandler
    {
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseCookies = false,
    };

    /// <summary>Builds the kit on <paramref name="endpoint"/> with the bench tool and the comparison settings.</summary>
    public static ServiceProvider BuildKit(Uri endpoint, Action<AssistantsKitOptions>? configure = null, bool sameHandler = true, Action<IAssistantsKitBuilder>? kit = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddAssistantsKit(o =>
        {
            o.Endpoint = endpoint;
            o.ApiKey = ApiKey;
            o.Assistant = new AssistantDefinition { Name = AssistantName, Instructions = "You answer questions about orders." };
            ZeroDelayPolling(o);
            o.RunStepLog = false;
            configure?.Invoke(o);
        }).AddTools<BenchOrderTools>();
        kit?.Invoke(builder);
        if (sameHandler)
        {
            services.AddHttpClient(KitHttpClient.Name).ConfigurePrimaryHttpMessageHandler(CreateHandler);
        }

        return services.BuildServiceProvider();
    }
}
