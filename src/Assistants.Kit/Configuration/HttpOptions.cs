namespace Assistants.Kit;

/// <summary>
/// HTTP timeouts and the retry layer. The kit has exactly one retry layer (Microsoft.Extensions.Http.Resilience); the
/// OpenAI client's own retries are switched off.
/// </summary>
/// <remarks>
/// GET and DELETE are retried on 408, 500, 502, 503, 504 and transport errors; every method is retried on 429 (the
/// server did nothing). POSTs are never re-sent blindly: a POST that may have landed is reconciled by the kit (see the
/// README). <c>retry-after-ms</c> and <c>Retry-After</c> are honoured.
/// </remarks>
public sealed class HttpOptions
{
    /// <summary>Gets or sets the maximum retries of one request. Default: 3.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the base delay of the exponential backoff (with jitter). Default: 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest delay between retries, also the cap on a server's retry hint. Default: 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the time allowed for one attempt to receive the response headers. Default: 30 seconds. Streaming bodies
    /// are not bounded by it (see <see cref="NetworkTimeout"/>).
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the time allowed for a request including its retries, up to the response headers. Default: 2 minutes.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets the OpenAI client's network timeout: for streams, the longest silence allowed between two reads.
    /// Raise it for runs with long silent steps. Default: 100 seconds.
    /// </summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Gets or sets the time allowed for a file upload to complete (uploads have their own policy). Default: 10 minutes.</summary>
    public TimeSpan UploadTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
