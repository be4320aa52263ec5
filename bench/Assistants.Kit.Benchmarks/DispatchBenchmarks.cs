using System.ComponentModel;
using System.Text.Json;
using Assistants.Kit;
using Assistants.Kit.Benchmarks.Experimental;
using Assistants.Kit.Tools.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Benchmarks;

/// <summary>
/// The executor's per-call overhead (parse the arguments, bind, invoke on the thread pool with a timeout, serialize the
/// result, build the record) against invoking the very same <see cref="AIFunction"/> directly with ready arguments.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const string ArgumentsJson = """{"orderId":"A-1001","includeLines":true}""";

    private ServiceProvider _provider = null!;
    private AsyncServiceScope _run;
    private IToolCallExecutor _executor = null!;
    private IToolCallExecutor _inline = null!;
    private ToolExecutionScope _scope = null!;
    private ToolCallRequest[] _oneCall = null!;
    private AIFunction _function = null!;
    private JsonElement _orderId;
    private JsonElement _includeLines;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddTools<OrderTools>();
        _provider = services.BuildServiceProvider();
        _run = _provider.CreateAsyncScope();
        _executor = _provider.GetRequiredService<IToolCallExecutor>();
        _inline = new InlineToolCallExecutor(
            _provider.GetRequiredService<ToolRegistry>(), TimeProvider.System, _provider.GetRequiredService<ILogger<ToolCallExecutor>>());
        _scope = new ToolExecutionScope("conversation", "thread_1", "run_1", _run.ServiceProvider);
        _oneCall = [new ToolCallRequest("call_1", "get_order_status", ArgumentsJson)];
        _provider.GetRequiredService<ToolRegistry>().TryGet("get_order_status", out ToolDescriptor? tool);
        _function = tool!.Function;
        using JsonDocument arguments = JsonDocument.Parse(ArgumentsJson);
        _orderId = arguments.RootElement.GetProperty("orderId").Clone();
        _includeLines = arguments.RootElement.GetProperty("includeLines").Clone();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _run.Dispose();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true, Description = "AIFunction.InvokeAsync directly")]
    public ValueTask<object?> Direct() =>
        _function.InvokeAsync(
            new AIFunctionArguments { ["orderId"] = _orderId, ["includeLines"] = _includeLines, Services = _run.ServiceProvider },
            CancellationToken.None);

    [Benchmark(Description = "AIFunction.InvokeAsync, arguments parsed from the JSON string")]
    public ValueTask<object?> DirectWithParse()
    {
        JsonElement root = JsonElement.Parse(ArgumentsJson);
        return _function.InvokeAsync(
            new AIFunctionArguments { ["orderId"] = root.GetProperty("orderId"), ["includeLines"] = root.GetProperty("includeLines"), Services = _run.ServiceProvider },
            CancellationToken.None);
    }

    [Benchmark(Description = "ToolCallExecutor.ExecuteAsync, one call")]
    public Task<IReadOnlyList<ToolCallRecord>> Executor() => _executor.ExecuteAsync(_oneCall, _scope, CancellationToken.None);

    [Benchmark(Description = "EXPERIMENT inline executor, one call")]
    public Task<IReadOnlyList<ToolCallRecord>> InlineExecutor() => _inline.ExecuteAsync(_oneCall, _scope, CancellationToken.None);

    public sealed record OrderLine(string Sku, int Quantity);

    public sealed record OrderStatus(string OrderId, string State, DateTimeOffset UpdatedAt, IReadOnlyList<OrderLine>? Lines);

    public sealed class OrderTools
    {
        private static readonly OrderLine[] Lines = [new("BOOT-42", 1), new("SOCK-7", 3)];
        private static readonly DateTimeOffset Updated = new(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);

        [AssistantTool("get_order_status", Description = "Gets the status of an order.")]
        public OrderStatus GetStatus([Description("The order ID, like A-1001")] string orderId, bool includeLines = false) =>
            new(orderId, "shipped", Updated, includeLines ? Lines : null);
    }
}
