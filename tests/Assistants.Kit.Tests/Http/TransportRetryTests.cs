using System.Net;
using System.Text.Json.Nodes;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Http;

/// <summary>
/// Transport errors (the emulator aborts the connection before applying the request): GET and DELETE are re-sent by the
/// HTTP layer and succeed; a POST is never re-sent there (it may have landed: the run engine reconciles it instead, see
/// <see cref="ReconciliationTests"/>).
/// </summary>
public sealed class TransportRetryTests
{
    private static Task<EmulatorKit> StartAsync() =>
        EmulatorKit.StartAsync(o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1));

    private static HttpClient KitClient(EmulatorKit kit) =>
        kit.Services.GetRequiredService<IHttpClientFactory>().CreateClient(KitHttpClient.Name);

    private static HttpRequestMessage Request(EmulatorKit kit, HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, kit.Emulator.BaseUri + path);
        request.Headers.Add("OpenAI-Beta", "assistants=v2");
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<string> CreateAssistantAsync(EmulatorKit kit)
    {
        using var http = new HttpClient();
        using var request = Request(kit, HttpMethod.Post, "/assistants", """{"model":"gpt-4.1-mini","name":"transport"}""");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task DroppedConnection_OnAnIdempotentRequest_IsRetried_AndSucceeds(string method)
    {
        await using var kit = await StartAsync();
        var id = await CreateAssistantAsync(kit);
        var fault = kit.Emulator.Faults.On(method, "/assistants/*").OnNth(1).DropConnection();

        using var request = Request(kit, new HttpMethod(method), "/assistants/" + id);
        using var response = await KitClient(kit).SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        Assert.Equal(1, fault.Triggered);
        var sent = kit.Emulator.Requests.Where(method, "/assistants/*");
        Assert.Equal(2, sent.Count);
        Assert.True(sent[0].ConnectionDropped);
        Assert.False(sent[1].ConnectionDropped);
        Assert.Equal(200, sent[1].StatusCode);
        Assert.Contains(kit.Services.LogLines(), l =>
            l.Contains("Assistants.Kit.Http", StringComparison.Ordinal) && l.Contains($"Retrying {method} ", StringComparison.Ordinal) && l.Contains("(status 0)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DroppedConnection_OnADelete_IsAppliedOnce()
    {
        await using var kit = await StartAsync();
        var id = await CreateAssistantAsync(kit);
        kit.Emulator.Faults.On("DELETE", "/assistants/*").OnNth(1).DropConnection();

        using (var delete = Request(kit, HttpMethod.Delete, "/assistants/" + id))
        using (var response = await KitClient(kit).SendAsync(delete))
        {
            Assert.True(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["deleted"]!.GetValue<bool>());
        }

        using var get = Request(kit, HttpMethod.Get, "/assistants/" + id);
        using var after = await KitClient(kit).SendAsync(get);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task DroppedConnection_OnAPost_IsNotResentByTheHttpLayer()
    {
        await using var kit = await StartAsync();
        kit.Emulator.Faults.On("POST", "/threads").OnNth(1).DropConnection();

        using var request = Request(kit, HttpMethod.Post, "/threads", "{}");
        await Assert.ThrowsAsync<HttpRequestException>(() => KitClient(kit).SendAsync(request));

        var post = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads"));
        Assert.True(post.ConnectionDropped);
        Assert.DoesNotContain(kit.Services.LogLines(), l => l.Contains("Retrying POST", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DroppedConnection_WhilePollingARun_IsRetried_AndTheRunCompletes()
    {
        await using var kit = await StartAsync();
        var fault = kit.Emulator.Faults.On("GET", "/threads/*/runs/*").OnNth(1).DropConnection();

        var result = await kit.Runner.RunAsync("k", "poll through a reset");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(1, fault.Triggered);
        var polls = kit.Emulator.Requests.Where("GET", "/threads/*/runs/*");
        Assert.True(polls[0].ConnectionDropped);
        Assert.Equal(200, polls[1].StatusCode);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/runs")); // the run itself was not started again
    }
}
