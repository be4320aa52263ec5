using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Assistants;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>Helpers to talk to an emulator: raw HTTP (with the beta header) and the official client.</summary>
internal static class Emulators
{
    public static HttpClient Http(AssistantsEmulator emulator, string? apiKey = "test-key", bool beta = true)
    {
        var client = new HttpClient { BaseAddress = new Uri(emulator.BaseUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (beta)
        {
            client.DefaultRequestHeaders.Add("OpenAI-Beta", "assistants=v2");
        }

        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public static AssistantClient Client(AssistantsEmulator emulator, string apiKey = "test-key") =>
        new(new ApiKeyCredential(apiKey), new AssistantClientOptions { Endpoint = emulator.BaseUri, RetryPolicy = new ClientRetryPolicy(0) });

    public static async Task<(int Status, JsonNode? Body)> SendAsync(this HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            var text = body as string ?? (body is JsonNode node ? node.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(body));
            request.Content = new StringContent(text, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, string.IsNullOrEmpty(content) ? null : JsonNode.Parse(content));
    }

    public static Task<(int Status, JsonNode? Body)> PostJsonAsync(this HttpClient http, string path, object? body = null) => http.SendAsync(HttpMethod.Post, path, body ?? new { });

    public static Task<(int Status, JsonNode? Body)> GetJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Get, path);

    public static Task<(int Status, JsonNode? Body)> DeleteJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Delete, path);

    public static string Str(this JsonNode? node, string path)
    {
        var current = node;
        foreach (var part in path.Split('.'))
        {
            current = int.TryParse(part, out var index) ? current?[index] : current?[part];
        }

        return current?.GetValue<string>() ?? throw new InvalidOperationException($"No string at {path}");
    }
}
