using Assistants.Kit.Http.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI.Assistants;
using OpenAI.Conversations;

namespace Assistants.Kit.Migration.Internal;

/// <summary>
/// The two client sets of a migration, both built by the kit's <see cref="OpenAIClientProvider"/> on its named, resilient
/// <see cref="HttpClient"/> (so timeouts and the retry layer are the kit's): one for the Assistants-protocol source and
/// one for the Responses-protocol target, each with its own endpoint and credential.
/// </summary>
internal sealed class MigrationClients
{
    private readonly OpenAIClientProvider _source;
    private readonly OpenAIClientProvider _target;

    public MigrationClients(IHttpClientFactory httpClientFactory, IOptions<AssistantsKitOptions> kitOptions, ThreadMigratorOptions options, ILoggerFactory? loggerFactory)
    {
        var http = kitOptions.Value.Http;
        _source = new OpenAIClientProvider(httpClientFactory, Options.Create(ToKitOptions(options.Source, http)), loggerFactory);
        _target = new OpenAIClientProvider(httpClientFactory, Options.Create(ToKitOptions(options.Target, http)), loggerFactory);
        SourceApiKey = options.Source.ApiKey;
        TargetApiKey = options.Target.ApiKey;
    }

    public AssistantClient Source => _source.Assistants;

    public ConversationClient Target => _target.Conversations;

    public Uri SourceEndpoint => _source.Endpoint;

    public Uri TargetEndpoint => _target.Endpoint;

    public string? SourceApiKey { get; }

    public string? TargetApiKey { get; }

    private static AssistantsKitOptions ToKitOptions(MigrationEndpointOptions endpoint, HttpOptions http)
    {
        var options = new AssistantsKitOptions
        {
            Endpoint = endpoint.Endpoint,
            ApiKey = endpoint.ApiKey,
            TokenProvider = endpoint.TokenProvider,
            OrganizationId = endpoint.OrganizationId,
            ProjectId = endpoint.ProjectId,
            Http = http,
        };
        foreach (var (name, value) in endpoint.QueryParameters)
        {
            options.QueryParameters[name] = value;
        }

        return options;
    }
}
