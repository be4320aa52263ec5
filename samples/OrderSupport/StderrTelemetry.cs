using System.Diagnostics;
using System.Globalization;
using System.Text;
using Assistants.Kit;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace OrderSupport;

/// <summary>
/// Prints the kit's spans and metrics to stderr when <c>ASSISTANTS_KIT_TELEMETRY=console</c> is set. (The OpenTelemetry
/// console exporter writes to stdout, which the sample's contract reserves for its result lines, so these exporters
/// write the same information to stderr.)
/// </summary>
internal sealed class StderrTelemetry : IDisposable
{
    private readonly TracerProvider _tracing;
    private readonly MeterProvider _metrics;

    private StderrTelemetry(TextWriter stderr)
    {
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(AssistantsKitTelemetry.ActivitySourceName)
            .AddProcessor(new SimpleActivityExportProcessor(new SpanExporter(stderr)))
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .AddMeter(AssistantsKitTelemetry.MeterName)
            .AddReader(new BaseExportingMetricReader(new MetricExporter(stderr)))
            .Build();
    }

    public static StderrTelemetry? StartIfRequested(IReadOnlyDictionary<string, string?> environment, TextWriter stderr) =>
        environment.TryGetValue("ASSISTANTS_KIT_TELEMETRY", out var value) && string.Equals(value, "console", StringComparison.OrdinalIgnoreCase)
            ? new StderrTelemetry(stderr)
            : null;

    public void Dispose()
    {
        _tracing.Dispose();
        _metrics.ForceFlush();
        _metrics.Dispose();
    }

    private sealed class SpanExporter(TextWriter writer) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var activity in batch)
            {
                var line = new StringBuilder();
                line.Append(CultureInfo.InvariantCulture, $"span {activity.DisplayName} kind={activity.Kind} duration_ms={activity.Duration.TotalMilliseconds:0.0} status={activity.Status}");
                foreach (var tag in activity.TagObjects)
                {
                    line.Append(CultureInfo.InvariantCulture, $" {tag.Key}={tag.Value}");
                }

                writer.WriteLine(line.ToString());
            }

            return ExportResult.Success;
        }
    }

    private sealed class MetricExporter(TextWriter writer) : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tags = new StringBuilder();
                    foreach (var tag in point.Tags)
                    {
                        tags.Append(CultureInfo.InvariantCulture, $" {tag.Key}={tag.Value}");
                    }

                    var value = metric.MetricType switch
                    {
                        MetricType.Histogram => string.Create(CultureInfo.InvariantCulture, $"count={point.GetHistogramCount()} sum={point.GetHistogramSum()}"),
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => string.Create(CultureInfo.InvariantCulture, $"value={point.GetSumLong()}"),
                        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => string.Create(CultureInfo.InvariantCulture, $"value={point.GetSumDouble()}"),
                        _ => metric.MetricType.ToString(),
                    };
                    writer.WriteLine($"metric {metric.Name} {value}{tags}");
                }
            }

            return ExportResult.Success;
        }
    }
}
