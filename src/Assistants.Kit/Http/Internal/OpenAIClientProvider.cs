using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Assistants;
using OpenAI.Conversations;
using OpenAI.Files;
using OpenAI.Responses;
using OpenAI.VectorStores;

namespace Assistants.Kit.Http.Internal;

/// <summary>
/// Builds the official OpenAI clients once, on the kit's HTTP stack: the transport is the kit's named
/// <see cref="HttpClient"/>, the SDK's retry policy is switched off (the resilience handler is the only retry layer),
/// and authentication is a bearer key, a placeholder for keyless servers, or the app's token provider.
/// </summary>
internal sealed class OpenAIClientProvider
{
    /// <summary>Sent to servers that take no key: <c>new ApiKeyCredential("")</c> throws, so an empty key is never passed.</summary>
    internal const string PlaceholderApiKey = "assistants-kit-no-key";

    private readonly Lazy<OpenAIClient> _client;
    private readonly Lazy<OpenAIClient> _uploadClient;

    public OpenAIClientProvider(IHttpClientFactory httpClientFactory, IOptions<AssistantsKitOptions> options, ILoggerFactory? loggerFactory = null)
    {
        var value = options.Value;
        _client = new Lazy<OpenAIClient>(() => Create(httpClientFactory.CreateClient(KitHttpClient.Name), value, value.Http.NetworkTimeout, loggerFactory));

        // The client's network timeout bounds each attempt up to the response headers, which for an upload includes
        // sending the body: the upload client gets the upload timeout there too, or a long upload dies at NetworkTimeout.
        _uploadClient = new Lazy<OpenAIClient>(() => Create(
            httpClientFactory.CreateClient(KitHttpClient.UploadName), value, Max(value.Http.NetworkTimeout, value.Http.UploadTimeout), loggerFactory));
        Endpoint = ResolveEndpoint(value);
    }

    public Uri Endpoint { get; }

    public AssistantClient Assistants => _client.Value.GetAssistantClient();

    public ResponsesClient Responses => _client.Value.GetResponsesClient();

    public ConversationClient Conversations => _client.Value.GetConversationClient();

    public VectorStoreClient VectorStores => _client.Value.GetVectorStoreClient();

    public OpenAIFileClient Files => _client.Value.GetOpenAIFileClient();

    public OpenAIFileClient UploadFiles => _uploadClient.Value.GetOpenAIFileClient();

    internal static Uri ResolveEndpoint(AssistantsKitOptions options) => options.Endpoint ?? AssistantsKitOptions.OpenAIEndpoint;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static OpenAIClient Create(HttpClient httpClient, AssistantsKitOptions options, TimeSpan networkTimeout, ILoggerFactory? loggerFactory)
    {
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = ResolveEndpoint(options),
            Transport = new HttpClientPipelineTransport(httpClient, enableLogging: false, loggerFactory),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = networkTimeout,
            UserAgentApplicationId = "assistants-kit",
        };
        if (!string.IsNullOrWhiteSpace(options.OrganizationId))
        {
            clientOptions.OrganizationId = options.OrganizationId;
        }

        if (!string.IsNullOrWhiteSpace(options.ProjectId))
        {
            clientOptions.ProjectId = options.ProjectId;
        }

        if (options.QueryParameters.Count > 0)
        {
            clientOptions.AddPolicy(new QueryParametersPolicy(options.QueryParameters), PipelinePosition.PerCall);
        }

        AuthenticationPolicy authentication = options.TokenProvider is { } tokenProvider
            ? new TokenProviderAuthenticationPolicy(tokenProvider)
            : ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(
                new ApiKeyCredential(string.IsNullOrWhiteSpace(options.ApiKey) ? PlaceholderApiKey : options.ApiKey));
        return new OpenAIClient(authentication, clientOptions);
    }
}
