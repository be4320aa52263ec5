using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using Assistants.Kit.Streaming.Internal;
using BenchmarkDotNet.Attributes;
using OpenAI.Assistants;

namespace Assistants.Kit.Benchmarks;

/// <summary>
/// The streaming adapter's cost: a recorded run stream (the official client's own recording of a streamed run: 43
/// events, 33 text deltas) read through the official client from memory, enumerating the raw
/// <see cref="StreamingUpdate"/>s (baseline) against mapping every update to the kit's events. Both read the same bytes
/// through the same client and transport, so the difference is the mapper. A third row maps updates parsed once in
/// the setup: the mapper's own cost, without the parser's noise.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Assistants.Kit.Benchmarks -- --filter '*StreamMapping*' --job short</c>
/// </remarks>
[MemoryDiagnoser]
public class StreamMappingBenchmarks
{
    private const string Fixture = "dotnet_StreamingRunWorks.create_run.sse";

    private HttpClient _http = null!;
    private AssistantClient _client = null!;
    private List<StreamingUpdate> _updates = null!;

    [GlobalSetup]
    public void Setup()
    {
        var sse = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Fixture));
        _http = new HttpClient(new SseHandler(sse));
        _client = new AssistantClient(
            new ApiKeyCredential("sk-bench"),
            new AssistantClientOptions
            {
                Endpoint = new Uri("http://bench.invalid/v1"),
                Transport = new HttpClientPipelineTransport(_http),
                RetryPolicy = new ClientRetryPolicy(0),
            });
    }

    [GlobalSetup(Target = nameof(MapOnly))]
    public void SetupMapOnly()
    {
        Setup();
        _updates = [];

        // BenchmarkDotNet setups are synchronous; the source is in memory.
        var stream = _client.CreateRunStreamingAsync("thread_bench", "asst_bench").GetAwaiter().GetResult();
        var updates = ((IAsyncEnumerable<StreamingUpdate>)stream).GetAsyncEnumerator();
        while (updates.MoveNextAsync().AsTask().GetAwaiter().GetResult())
        {
            _updates.Add(updates.Current);
        }

        updates.DisposeAsync().AsTask().GetAwaiter().GetResult();
        ((IAsyncDisposable)stream).DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The mapper's own cost: the same updates, parsed once in the setup, mapped again.</summary>
    [Benchmark(Description = "mapper only (pre-parsed updates)")]
    public int MapOnly()
    {
        var count = 0;
        var mapper = new StreamingUpdateMapper("thread_bench");
        var events = new List<RunStreamEvent>(4);
        foreach (var update in _updates)
        {
            mapper.Map(update, events);
            count += events.Count;
            events.Clear();
        }

        return count;
    }

    [GlobalCleanup]
    public void Cleanup() => _http.Dispose();

    [Benchmark(Baseline = true, Description = "raw StreamingUpdates")]
    public async Task<int> Raw()
    {
        var count = 0;
        await using var stream = await _client.CreateRunStreamingAsync("thread_bench", "asst_bench").ConfigureAwait(false);
        await foreach (var update in ((IAsyncEnumerable<StreamingUpdate>)stream).ConfigureAwait(false))
        {
            count += update is null ? 0 : 1;
        }

        return count;
    }

    [Benchmark(Description = "kit events (StreamingUpdateMapper)")]
    public async Task<int> Mapped()
    {
        var count = 0;
        var mapper = new StreamingUpdateMapper("thread_bench");
        var events = new List<RunStreamEvent>(4);
        await using var stream = await _client.CreateRunStreamingAsync("thread_bench", "asst_bench").ConfigureAwait(false);
        await foreach (var update in ((IAsyncEnumerable<StreamingUpdate>)stream).ConfigureAwait(false))
        {
            mapper.Map(update, events);
            count += events.Count;
            events.Clear();
        }

        return count;
    }

    /// <summary>Answers every request with the recorded SSE body, from memory.</summary>
    private sealed class SseHandler(byte[] body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("text/event-stream");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }
}
