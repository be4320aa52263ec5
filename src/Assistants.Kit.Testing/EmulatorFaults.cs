using System.Globalization;
using Assistants.Kit.Testing.Internal;

namespace Assistants.Kit.Testing;

/// <summary>
/// Fault injection: rules that make chosen requests fail at the HTTP level, the way a real network and gateway do.
/// </summary>
/// <remarks>
/// <para>
/// A rule selects requests by method and path pattern (below <c>/v1</c>, <c>*</c> matching one segment, e.g.
/// <c>POST /threads/*/runs</c>), then which of the matching requests it hits (<see cref="EmulatorFault.OnNth"/>,
/// <see cref="EmulatorFault.FirstN"/>, or <see cref="EmulatorFault.Every"/>, the default), then what happens:
/// <see cref="EmulatorFault.RespondWith"/> (an error status with OpenAI's error body and headers; the request is not
/// applied), <see cref="EmulatorFault.DropConnection"/> (the connection is aborted before the request is applied),
/// <see cref="EmulatorFault.CommitThenDrop"/> (the request is applied, then the connection is aborted instead of
/// answering) and <see cref="EmulatorFault.Delay"/> (wait, through the emulator's <see cref="TimeProvider"/>, before
/// going on; combinable with the others).
/// </para>
/// <para>
/// Every rule counts the requests it matches, whether or not an earlier rule already faulted them; when several rules
/// hit the same request, the one added first applies. Faults are applied before authentication and routing.
/// </para>
/// </remarks>
public sealed class EmulatorFaults
{
    private readonly Lock _sync = new();
    private readonly List<EmulatorFault> _rules = [];

    internal EmulatorFaults()
    {
    }

    /// <summary>Adds a rule for the requests with this method whose path matches <paramref name="pathPattern"/>.</summary>
    /// <param name="method">The HTTP method (case-insensitive).</param>
    /// <param name="pathPattern">The path pattern, <c>*</c> matching one segment.</param>
    /// <returns>The rule, to configure fluently.</returns>
    public EmulatorFault On(string method, string pathPattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        var rule = new EmulatorFault(method, PathPattern.Parse(pathPattern), pathPattern);
        lock (_sync)
        {
            _rules.Add(rule);
        }

        return rule;
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _rules.Clear();
        }
    }

    internal EmulatorFault? Match(string method, string path)
    {
        lock (_sync)
        {
            EmulatorFault? hit = null;
            foreach (var rule in _rules)
            {
                if (rule.Count(method, path) && hit is null)
                {
                    hit = rule;
                }
            }

            hit?.MarkTriggered();
            return hit;
        }
    }
}

/// <summary>One fault rule (see <see cref="EmulatorFaults"/>).</summary>
public sealed class EmulatorFault
{
    private readonly string _method;
    private readonly PathPattern _pattern;
    private readonly string _patternText;
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);
    private int _matches;
    private int _triggered;
    private int? _nth;
    private int? _firstN;

    internal EmulatorFault(string method, PathPattern pattern, string patternText)
    {
        _method = method;
        _pattern = pattern;
        _patternText = patternText;
    }

    /// <summary>Gets how many requests matched the rule's method and path so far.</summary>
    public int Matches => Volatile.Read(ref _matches);

    /// <summary>Gets how many requests the rule faulted so far.</summary>
    public int Triggered => Volatile.Read(ref _triggered);

    internal FaultAction Action { get; private set; } = FaultAction.None;

    internal TimeSpan DelayBy { get; private set; }

    internal int StatusCode { get; private set; }

    internal string? ErrorMessage { get; private set; }

    internal string? ErrorType { get; private set; }

    internal string? ErrorCode { get; private set; }

    internal IReadOnlyDictionary<string, string> Headers => _headers;

    /// <summary>Hits only the <paramref name="n"/>-th matching request (1-based).</summary>
    /// <param name="n">The ordinal of the request to fault.</param>
    /// <returns>This rule.</returns>
    public EmulatorFault OnNth(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        _nth = n;
        _firstN = null;
        return this;
    }

    /// <summary>Hits the first <paramref name="n"/> matching requests.</summary>
    /// <param name="n">How many requests to fault.</param>
    /// <returns>This rule.</returns>
    public EmulatorFault FirstN(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        _firstN = n;
        _nth = null;
        return this;
    }

    /// <summary>Hits every matching request (the default).</summary>
    /// <returns>This rule.</returns>
    public EmulatorFault Every()
    {
        _nth = null;
        _firstN = null;
        return this;
    }

    /// <summary>
    /// Answers with <paramref name="statusCode"/> and OpenAI's error envelope instead of applying the request. Defaults
    /// per status: 429 <c>rate_limit_exceeded</c>, 500/503 <c>server_error</c>, 502 <c>cf_bad_gateway</c>.
    /// </summary>
    /// <param name="statusCode">The HTTP status (e.g. 429, 500, 502, 503).</param>
    /// <param name="retryAfterSeconds">Adds a <c>Retry-After</c> header (seconds).</param>
    /// <param name="retryAfterMs">Adds a <c>retry-after-ms</c> header (milliseconds).</param>
    /// <param name="message">The error message (a realistic default per status when omitted).</param>
    /// <param name="code">The error code (a default per status when omitted).</param>
    /// <param name="type">The error type (a default per status when omitted).</param>
    /// <returns>This rule.</returns>
    public EmulatorFault RespondWith(int statusCode, int? retryAfterSeconds = null, int? retryAfterMs = null, string? message = null, string? code = null, string? type = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        Action = FaultAction.Respond;
        StatusCode = statusCode;
        ErrorMessage = message;
        ErrorCode = code;
        ErrorType = type;
        if (retryAfterSeconds is { } seconds)
        {
            _headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (retryAfterMs is { } ms)
        {
            _headers["retry-after-ms"] = ms.ToString(CultureInfo.InvariantCulture);
        }

        return this;
    }

    /// <summary>Adds a header to the fault's error response.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="value">The header value.</param>
    /// <returns>This rule.</returns>
    public EmulatorFault WithHeader(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        _headers[name] = value;
        return this;
    }

    /// <summary>
    /// Waits <paramref name="delay"/> (through the emulator's <see cref="TimeProvider"/>: with a fake provider the
    /// request waits until the test advances time) before the rest of the rule, or the normal handling, goes on.
    /// </summary>
    /// <param name="delay">How long to wait.</param>
    /// <returns>This rule.</returns>
    public EmulatorFault Delay(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        DelayBy = delay;
        return this;
    }

    /// <summary>Aborts the connection before the request is applied: the client sees a connection error, the state is unchanged.</summary>
    /// <returns>This rule.</returns>
    public EmulatorFault DropConnection()
    {
        Action = FaultAction.Drop;
        return this;
    }

    /// <summary>
    /// Applies the request normally, then aborts the connection instead of answering: the state changed, but the client
    /// sees a connection error (the "did my POST go through?" case).
    /// </summary>
    /// <returns>This rule.</returns>
    public EmulatorFault CommitThenDrop()
    {
        Action = FaultAction.CommitThenDrop;
        return this;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{_method.ToUpperInvariant()} {_patternText}: {Action}";

    /// <summary>Counts the request if it matches; returns whether this rule faults it.</summary>
    internal bool Count(string method, string path)
    {
        if (!string.Equals(method, _method, StringComparison.OrdinalIgnoreCase) || !_pattern.IsMatch(path))
        {
            return false;
        }

        var ordinal = Interlocked.Increment(ref _matches);
        return _nth is { } nth ? ordinal == nth : _firstN is not { } first || ordinal <= first;
    }

    internal void MarkTriggered() => Interlocked.Increment(ref _triggered);
}

internal enum FaultAction
{
    None,
    Respond,
    Drop,
    CommitThenDrop,
}
