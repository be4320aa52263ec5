using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Assistants.Kit.Benchmarks.Diagnostics;

/// <summary>
/// Samples the runtime's GCAllocationTick events (one per ~100 KB allocated, with the type of the object that crossed
/// the threshold) in this process, to see which types a loop allocates — an allocation profile without a profiler.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public bool Recording { get; set; }

    public IReadOnlyDictionary<string, long> TakeSnapshot()
    {
        var copy = new Dictionary<string, long>(_bytes, StringComparer.Ordinal);
        _bytes.Clear();
        return copy;
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Recording || eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var type = eventData.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload[t] as string ?? "?" : "?";
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }
}
