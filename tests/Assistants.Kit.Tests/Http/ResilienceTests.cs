using System.Net;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Assistants.Kit.Tests.Http;

public sealed class ResilienceTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();

    public void Dispose() => _server.Stop();

    private Uri Endpoint => new(_server.Urls[0] + "/v1");

    private HttpClient KitClient(ServiceProvider provider) =>
        provider.GetRequiredService<IHttpClientFactory>().CreateClient(KitHttpClient.Name);

    private int Count(string path) => _server.LogEntries.Count(e => e.RequestMessage!.Path == path);

    [Theory]
    [InlineData("GET", 408, 3)]
    [InlineData("GET", 429, 3)]
    [InlineData("GET", 500, 3)]
    [InlineData("GET", 502, 3)]
    [InlineData("GET", 503, 3)]
    [InlineData("GET", 504, 3)]
    [InlineData("GET", 400, 1)]
    [InlineData("GET", 404, 1)]
    [InlineData("DELETE", 500, 3)]
    [InlineData("DELETE", 503, 3)]
    [InlineData("DELETE", 429, 3)]
    [InlineData("POST", 429, 3)]
    [InlineData("POST", 408, 1)]
    [InlineData("POST", 500, 1)]
    [InlineData("POST", 502, 1)]
    [InlineData("POST", 503, 1)]
    [InlineData("POST", 504, 1)]
    [InlineData("POST", 400, 1)]
    public async Task RetryMatrix_MethodAndStatus_DecideRetries(string method, int status, int expectedAttempts)
    {
        var path = $"/v1/matrix/{method}/{status}";
        _server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithStatusCode(status).WithBody("""{"error":{"message":"x","type":"server_error","param":null,"code":null}}"""));
        await using var provider = KitServices.Build(Endpoint, o =>
        {
            o.Http.MaxRetryAttempts = 2;
            o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        });

        using var request = new HttpRequestMessage(new HttpMethod(method), Endpoint + $"/matrix/{method}/{status}") { Content = method == "POST" ? new StringContent("{}") : null };
        using var response = await KitClient(provider).SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(expectedAttempts, Count(path));
    }

    [Theory]
    [InlineData("retry-after-ms", "3000", 3000)]
    [InlineData("Retry-After", "2", 2000)]
    public async Task Retry_HonoursServerHint_UnderFakeTime(string header, string value, int expectedMs)
    {
        var path = "/v1/hint";
        _server.Given(Request.Create().WithPath(path)).InScenario("hint").WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader(header, value).WithBody("""{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""));
        _server.Given(Request.Create().WithPath(path)).InScenario("hint").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var time = new TimerWatchingTimeProvider(DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var provider = KitServices.Build(Endpoint, o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1), time);

        var send = KitClient(provider).PostAsync(Endpoint + "/hint", new StringContent("{}"));
        await Waiting.UntilAsync(() => Count(path) == 1);

        // The retry delay's timer must exist before the clock moves, or the advance would happen before the wait began.
        await Waiting.UntilAsync(() => time.DueTimes.Contains(TimeSpan.FromMilliseconds(expectedMs)));

        time.Advance(TimeSpan.FromMilliseconds(expectedMs - 100));
        await Task.Delay(100); // loopback I/O would have gone out by now if the retry had fired
        Assert.Equal(1, Count(path));
        Assert.False(send.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(100));
        using var response = await send.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, Count(path));
    }

    [Fact]
    public async Task KitClient_HasNoHttpClientFactoryRequestLogging_ButRetriesAreStillLogged()
    {
        var path = "/v1/quiet";
        _server.Given(Request.Create().WithPath(path)).InScenario("quiet").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(503));
        _server.Given(Request.Create().WithPath(path)).InScenario("quiet").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        await using var provider = KitServices.Build(Endpoint, o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1));

        using var response = await KitClient(provider).GetAsync(Endpoint + "/quiet");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = provider.LogLines();
        Assert.DoesNotContain(lines, l => l.Contains("System.Net.Http.HttpClient.", StringComparison.Ordinal)); // no per-request handler logs
        Assert.Contains(lines, l => l.Contains("Assistants.Kit.Http", StringComparison.Ordinal));               // the kit's own retry log
    }

    [Fact]
    public async Task AddAssistantsKit_Twice_AddsOneRetryLayer()
    {
        var path = "/v1/twice";
        _server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithStatusCode(503));
        var services = new ServiceCollection();
        services.AddAssistantsKit(o =>
        {
            o.Endpoint = Endpoint;
            o.ApiKey = KitServices.TestApiKey;
            o.Http.MaxRetryAttempts = 2;
            o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        });
        services.AddAssistantsKit();
        await using var provider = services.BuildServiceProvider();

        using var response = await KitClient(provider).GetAsync(Endpoint + "/twice");

        Assert.Equal(3, Count(path)); // one pipeline: 1 + 2 retries (two stacked pipelines would make 9)
        Assert.NotNull(provider.GetRequiredService<AssistantRunner>());
    }

    [Fact]
    public void ServerRetryDelay_ReadsBothHeaders_MillisecondsFirst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var both = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        both.Headers.Add("retry-after-ms", "250");
        both.Headers.Add("Retry-After", "9");
        Assert.Equal(TimeSpan.FromMilliseconds(250), KitHttpClient.ServerRetryDelay(both, time));

        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(time.GetUtcNow().AddSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), KitHttpClient.ServerRetryDelay(date, time));

        using var none = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        Assert.Null(KitHttpClient.ServerRetryDelay(none, time));

        using var garbage = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        garbage.Headers.TryAddWithoutValidation("retry-after-ms", "soon");
        Assert.Null(KitHttpClient.ServerRetryDelay(garbage, time));
    }

    /// <summary>A fake clock that records the due time of every timer created on it.</summary>
    private sealed class TimerWatchingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<TimeSpan> _dueTimes = new();

        public IReadOnlyCollection<TimeSpan> DueTimes => _dueTimes;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _dueTimes.Enqueue(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
