using System.Globalization;
using Assistants.Kit.Diagnostics.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Assistants.Kit.Http.Internal;

/// <summary>
/// The kit's one HTTP stack: a named <see cref="HttpClient"/> from <see cref="IHttpClientFactory"/> with one resilience
/// handler. The OpenAI client runs on it with its own retries switched off (<c>new ClientRetryPolicy(0)</c>).
/// </summary>
/// <remarks>
/// <para>The pipeline is total timeout → retry → attempt timeout. There is deliberately no circuit breaker and no
/// concurrency limiter (the standard handler has both): the breaker opens when 10 % of requests fail within 30 s, so a
/// burst of 429s would turn every other conversation's status checks into immediate failures; the limiter rejects the
/// 1,001st concurrent request. The server's own 429 with <c>Retry-After</c> is the back-pressure signal the kit follows.</para>
/// <para>Timeouts bound the time to the response headers only; a streamed body is bounded by the OpenAI client's
/// <c>NetworkTimeout</c> (per read), so a long stream survives a short total timeout.</para>
/// </remarks>
internal static class KitHttpClient
{
    public const string Name = "Assistants.Kit";
    public const string UploadName = "Assistants.Kit.Uploads";

    public static void Register(IServiceCollection services)
    {
        // IHttpClientFactory's per-request logging handlers are removed (−3.5 KB and up to 60 µs per turn, measured): the
        // kit logs retries and failures itself (category Assistants.Kit.Http) and HTTP client spans carry every request.
        services.AddHttpClient(Name, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("assistants-kit", static (builder, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Http;
                Configure(builder, context.ServiceProvider, options, options.TotalRequestTimeout, options.AttemptTimeout);
            });

        // Uploads send large bodies: the time to the response headers includes sending the body, so they get one long
        // timeout of their own and no attempt timeout.
        services.AddHttpClient(UploadName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("assistants-kit-uploads", static (builder, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Http;
                Configure(builder, context.ServiceProvider, options, options.UploadTimeout, attemptTimeout: null);
            });
    }

    private static void Configure(
        ResiliencePipelineBuilder<HttpResponseMessage> builder,
        IServiceProvider services,
        HttpOptions options,
        TimeSpan totalTimeout,
        TimeSpan? attemptTimeout)
    {
        builder.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("Assistants.Kit.Http") ?? NullLogger.Instance;
        var timeProvider = builder.TimeProvider;
        var telemetry = services.GetService<KitTelemetry>();

        builder.AddTimeout(new TimeoutStrategyOptions { Name = "total", Timeout = totalTimeout });
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "retry",
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = static args => ValueTask.FromResult(ShouldRetry(args.Context.GetRequestMessage(), args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(ServerRetryDelay(args.Outcome.Result, timeProvider)),
                OnRetry = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    KitLog.RetryingRequest(
                        logger,
                        request?.Method.Method ?? "?",
                        request?.RequestUri?.AbsolutePath ?? "?",
                        args.Outcome.Result is { } r ? (int)r.StatusCode : 0,
                        args.AttemptNumber + 1,
                        args.RetryDelay);
                    telemetry?.Retries.Add(1, new KeyValuePair<string, object?>("http.request.method", request?.Method.Method));
                    return default;
                },
            });
        }

        if (attemptTimeout is { } attempt)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Name = "attempt", Timeout = attempt });
        }
    }

    /// <summary>
    /// GET, HEAD and DELETE are retried on 408/500/502/503/504 and transport errors; every method on 429. A POST that
    /// fails otherwise is never re-sent here: the kit reconciles it (it may have landed).
    /// </summary>
    internal static bool ShouldRetry(HttpRequestMessage? request, Outcome<HttpResponseMessage> outcome)
    {
        var idempotent = request is not null &&
            (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Delete);
        if (outcome.Result is { } response)
        {
            var status = (int)response.StatusCode;
            if (status == 429)
            {
                return true;
            }

            return idempotent && status is 408 or 500 or 502 or 503 or 504;
        }

        return idempotent && outcome.Exception is HttpRequestException or TimeoutRejectedException or IOException;
    }

    /// <summary>The server's retry hint: <c>retry-after-ms</c> (milliseconds) first, then <c>Retry-After</c> (seconds or a date).</summary>
    internal static TimeSpan? ServerRetryDelay(HttpResponseMessage? response, TimeProvider timeProvider)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)
            && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta && delta >= TimeSpan.Zero)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                var wait = date - timeProvider.GetUtcNow();
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }
}
