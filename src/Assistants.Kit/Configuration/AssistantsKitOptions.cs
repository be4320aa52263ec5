namespace Assistants.Kit;

/// <summary>
/// Options of Assistants.Kit, bound from the <c>AssistantsKit</c> configuration section or set in code. Validated when
/// the host starts, or on the first resolve of a kit service when there is no host.
/// </summary>
public sealed class AssistantsKitOptions
{
    /// <summary>The configuration section bound by default: <c>AssistantsKit</c>.</summary>
    public const string DefaultSectionName = "AssistantsKit";

    /// <summary>The public OpenAI endpoint, used when no <see cref="Endpoint"/> is configured.</summary>
    public static readonly Uri OpenAIEndpoint = new("https://api.openai.com/v1");

    /// <summary>
    /// Gets or sets the API key sent as a bearer token. Falls back to the <c>OPENAI_API_KEY</c> environment variable.
    /// With an <see cref="Endpoint"/> and no key, a placeholder key is sent (for keyless self-hosted servers).
    /// Never logged, never included in exceptions or <see cref="ToString"/>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets the server's base address including <c>/v1</c>. Falls back to the <c>OPENAI_BASE_URL</c>
    /// environment variable, then to <see cref="OpenAIEndpoint"/>.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets the OpenAI organization ID (<c>OpenAI-Organization</c> header), if any.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>Gets or sets the OpenAI project ID (<c>OpenAI-Project</c> header), if any.</summary>
    public string? ProjectId { get; set; }

    /// <summary>
    /// Gets or sets a provider of bearer tokens, called for every request (for Entra ID or other token-based servers).
    /// When set it replaces <see cref="ApiKey"/>. Code only; not bindable from configuration.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? TokenProvider { get; set; }

    /// <summary>
    /// Gets extra query parameters added to every request, e.g. <c>api-version</c> for Azure Foundry classic agents.
    /// </summary>
    public IDictionary<string, string> QueryParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the model used when an assistant definition names none. Default: <c>gpt-4.1-mini</c>.</summary>
    public string DefaultModel { get; set; } = "gpt-4.1-mini";

    /// <summary>Gets or sets the wire protocol. Default: <see cref="AssistantsProtocol.Assistants"/>.</summary>
    public AssistantsProtocol Protocol { get; set; } = AssistantsProtocol.Assistants;

    /// <summary>Gets or sets the assistant the runner uses when a run names none.</summary>
    public AssistantDefinition Assistant { get; set; } = new();

    /// <summary>Gets or sets how the kit waits for runs.</summary>
    public RunPollingOptions Polling { get; set; } = new();

    /// <summary>Gets or sets the limits and settings applied to every run unless a run overrides them.</summary>
    public RunDefaultsOptions RunDefaults { get; set; } = new();

    /// <summary>Gets or sets the HTTP timeouts and retry settings.</summary>
    public HttpOptions Http { get; set; } = new();

    /// <summary>Gets or sets the opt-in policy that re-runs runs that failed for transient reasons.</summary>
    public FailedRunRetryOptions FailedRunRetry { get; set; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether a run is cancelled on the server when the caller's token is cancelled
    /// while the kit waits for it, so the thread is not left locked by an active run. Default: <see langword="true"/>.
    /// </summary>
    public bool CancelRunOnCallerCancellation { get; set; } = true;

    /// <summary>Gets or sets how long that server-side cancel may take. Default: 5 seconds.</summary>
    public TimeSpan CancelRunTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets what happens when a message arrives for a conversation key whose previous run (started with
    /// <see cref="AssistantRunner.RunAsync"/> or <c>StreamAsync</c> in this process) has not ended. Default:
    /// <see cref="ConcurrencyPolicy.Queue"/>.
    /// </summary>
    public ConcurrencyPolicy Concurrency { get; set; } = ConcurrencyPolicy.Queue;

    /// <summary>Gets or sets how tool calls that need a person's approval are handled.</summary>
    public ApprovalOptions Approvals { get; set; } = new();

    /// <summary>Gets or sets how conversations roll over to a new thread under context pressure.</summary>
    public RolloverOptions Rollover { get; set; } = new();

    /// <summary>Gets or sets the telemetry settings (content recording is opt-in).</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether each run's steps (type, tool calls, status, usage, latency) are read, put on
    /// the result and logged. On the polled path this costs one run-steps list request per finished run; streamed runs get
    /// the steps from the stream. Default: <see langword="true"/>.
    /// </summary>
    public bool RunStepLog { get; set; } = true;

    /// <summary>Returns a description of the options with the credentials redacted.</summary>
    /// <returns>A string that never contains the API key.</returns>
    public override string ToString() =>
        $"Endpoint={Endpoint?.ToString() ?? "(default)"}, ApiKey={(string.IsNullOrEmpty(ApiKey) ? "(none)" : "***")}, " +
        $"TokenProvider={(TokenProvider is null ? "(none)" : "set")}, Protocol={Protocol}, DefaultModel={DefaultModel}";
}
