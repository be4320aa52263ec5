using Assistants.Kit.Http.Internal;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Assistants.Kit.Tests.Http;

public sealed class EndpointProfileTests : IDisposable
{
    private const string AssistantJson = """
        {"id":"asst_abc","object":"assistant","created_at":1730000000,"name":"a","description":null,"model":"gpt-4.1-mini","instructions":null,"tools":[],"top_p":1.0,"temperature":1.0,"reasoning_effort":null,"tool_resources":{},"metadata":{},"response_format":"auto"}
        """;

    private readonly WireMockServer _server = WireMockServer.Start();

    public EndpointProfileTests()
    {
        _server.Given(Request.Create().WithPath("/v1/assistants/asst_abc").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(AssistantJson));
    }

    public void Dispose() => _server.Stop();

    private Uri Endpoint => new(_server.Urls[0] + "/v1");

    private IReadOnlyList<WireMock.Logging.ILogEntry> Requests => [.. _server.LogEntries];

    [Fact]
    public async Task TokenProvider_CalledPerRequest_AndQueryParametersOnEveryRequest()
    {
        var calls = 0;
        await using var provider = KitServices.Build(Endpoint, o =>
        {
            o.ApiKey = null;
            o.TokenProvider = _ => ValueTask.FromResult("token-" + Interlocked.Increment(ref calls));
            o.QueryParameters["api-version"] = "2025-05-15-preview";
        });
        var client = provider.GetRequiredService<OpenAIClientProvider>().Assistants;

        await client.GetAssistantAsync("asst_abc");
        await client.GetAssistantAsync("asst_abc");

        Assert.Equal(2, calls);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], Requests.Select(r => r.RequestMessage!.Headers!["Authorization"].Single()));
        Assert.All(Requests, r => Assert.Equal("2025-05-15-preview", r.RequestMessage!.Query!["api-version"].Single()));
        Assert.All(Requests, r => Assert.Equal("assistants=v2", r.RequestMessage!.Headers!["OpenAI-Beta"].Single()));
    }

    [Fact]
    public async Task EndpointWithoutKey_SendsPlaceholderKey()
    {
        await using var provider = KitServices.Build(Endpoint, o => o.ApiKey = null);
        await provider.GetRequiredService<OpenAIClientProvider>().Assistants.GetAssistantAsync("asst_abc");
        Assert.Equal("Bearer " + OpenAIClientProvider.PlaceholderApiKey, Requests.Single().RequestMessage!.Headers!["Authorization"].Single());
    }

    [Fact]
    public async Task ApiKey_SentAsBearer_AndOrganizationAndProjectHeaders()
    {
        await using var provider = KitServices.Build(Endpoint, o =>
        {
            o.OrganizationId = "org-1";
            o.ProjectId = "proj_1";
        });
        await provider.GetRequiredService<OpenAIClientProvider>().Assistants.GetAssistantAsync("asst_abc");
        var headers = Requests.Single().RequestMessage!.Headers!;
        Assert.Equal("Bearer " + KitServices.TestApiKey, headers["Authorization"].Single());
        Assert.Equal("org-1", headers["OpenAI-Organization"].Single());
        Assert.Equal("proj_1", headers["OpenAI-Project"].Single());
    }

    [Fact]
    public async Task SdkRetries_AreOff_APostFailingWith500IsSentOnce()
    {
        _server.Given(Request.Create().WithPath("/v1/threads").UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        await using var provider = KitServices.Build(Endpoint, o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() =>
            provider.GetRequiredService<OpenAIClientProvider>().Assistants.CreateThreadAsync());
        Assert.Single(Requests, r => r.RequestMessage!.Path == "/v1/threads");
    }
}
