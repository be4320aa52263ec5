namespace Assistants.Kit;

/// <summary>
/// Options of the <see cref="ThreadMigrator"/>: the two servers it talks to and how it writes. Set them with
/// <c>services.AddAssistantsKitMigration(o =&gt; …)</c>; validated when the migrator is first resolved (or when the host
/// starts), every message naming the setting and the value it had.
/// </summary>
/// <remarks>
/// The migrator builds two sets of official OpenAI clients on the kit's HTTP stack (its timeouts and retry layer, the
/// <see cref="AssistantsKitOptions.Http"/> settings): one for <see cref="Source"/>, one for <see cref="Target"/>. Each
/// has its own endpoint and credential; neither uses <see cref="AssistantsKitOptions.Endpoint"/> or
/// <see cref="AssistantsKitOptions.ApiKey"/>.
/// </remarks>
public sealed class ThreadMigratorOptions
{
    /// <summary>The configuration section name used in validation messages: <c>AssistantsKitMigration</c>.</summary>
    public const string SectionName = "AssistantsKitMigration";

    /// <summary>The most items the Conversations API accepts in one request (20).</summary>
    public const int MaxBatchSize = 20;

    /// <summary>
    /// Gets the server the threads are read from: it speaks the Assistants v2 protocol (an Azure Foundry classic agents
    /// endpoint, a self-hosted server). <see cref="MigrationEndpointOptions.Endpoint"/> is required: OpenAI switched its
    /// hosted Assistants API off on 2026-08-26.
    /// </summary>
    public MigrationEndpointOptions Source { get; } = new();

    /// <summary>
    /// Gets the server the conversations are written to: it speaks Responses + Conversations. Without an
    /// <see cref="MigrationEndpointOptions.Endpoint"/> it is OpenAI's public endpoint, and then a key (or token provider)
    /// is required.
    /// </summary>
    public MigrationEndpointOptions Target { get; } = new();

    /// <summary>
    /// Gets or sets how many conversation items are written per request, 1 to <see cref="MaxBatchSize"/>. The progress
    /// (the last carried message) is recorded after each batch, so a smaller batch loses less work to a failure and costs
    /// more requests. Default: 20.
    /// </summary>
    public int BatchSize { get; set; } = MaxBatchSize;

    /// <summary>Returns a description of the options with the credentials redacted.</summary>
    /// <returns>A string that never contains a key.</returns>
    public override string ToString() => $"Source=({Source}), Target=({Target}), BatchSize={BatchSize}";
}

/// <summary>One server of a migration: where it is and how to authenticate.</summary>
public sealed class MigrationEndpointOptions
{
    /// <summary>Gets or sets the server's base address including <c>/v1</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// Gets or sets the API key sent as a bearer token; with an <see cref="Endpoint"/> and no key a placeholder is sent
    /// (keyless self-hosted servers). Never logged, never included in exceptions, reports or <see cref="ToString"/>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets a provider of bearer tokens called for every request (Entra ID); replaces <see cref="ApiKey"/>.</summary>
    public Func<CancellationToken, ValueTask<string>>? TokenProvider { get; set; }

    /// <summary>Gets or sets the OpenAI organization ID (<c>OpenAI-Organization</c> header), if any.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>Gets or sets the OpenAI project ID (<c>OpenAI-Project</c> header), if any.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Gets extra query parameters added to every request, e.g. <c>api-version</c> for Azure Foundry classic agents.</summary>
    public IDictionary<string, string> QueryParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Returns a description of the endpoint with the credentials redacted.</summary>
    /// <returns>A string that never contains the key.</returns>
    public override string ToString() =>
        $"Endpoint={Endpoint?.ToString() ?? "(default)"}, ApiKey={(string.IsNullOrEmpty(ApiKey) ? "(none)" : "***")}, " +
        $"TokenProvider={(TokenProvider is null ? "(none)" : "set")}";
}
