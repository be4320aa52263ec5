using System.ClientModel;
using System.Text.Json;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>Turns the OpenAI client's exceptions into the kit's <see cref="AssistantsServerException"/>, without credentials.</summary>
internal static class ServerErrors
{
    public static bool IsNotFound(Exception exception) => exception is ClientResultException { Status: 404 };

    /// <summary>Runs a call on the official client, turning its exceptions into <see cref="AssistantsServerException"/>.</summary>
    public static async Task<T> TranslateAsync<T>(Func<Task<T>> action, string? apiKey)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ClientResultException ex)
        {
            throw Translate(ex, apiKey);
        }
        catch (HttpRequestException ex)
        {
            throw Transport(ex, apiKey);
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            throw Transport(ex, apiKey);
        }
    }

    public static AssistantsServerException Translate(ClientResultException exception, string? apiKey)
    {
        string? code = null;
        string? message = null;
        try
        {
            if (exception.GetRawResponse() is { } response && response.Content is { } content && content.ToMemory().Length > 0)
            {
                using var document = JsonDocument.Parse(content);
                if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    code = String(error, "code") ?? String(error, "type");
                    message = String(error, "message");
                }
            }
        }
        catch (JsonException)
        {
            // A non-JSON error body: fall back to the client's message.
        }
        catch (InvalidOperationException)
        {
            // The body was not buffered (streaming): fall back to the client's message.
        }

        var text = exception.Status == 0
            ? $"The server could not be reached: {Redact(exception.InnerException?.Message ?? exception.Message, apiKey)}"
            : $"HTTP {exception.Status}{(code is null ? string.Empty : $" ({code})")}: {Redact(message ?? exception.Message, apiKey)}";
        return new AssistantsServerException(exception.Status, code, text, Leaks(exception, apiKey) ? null : exception);
    }

    public static AssistantsServerException Transport(Exception exception, string? apiKey) =>
        new(
            0,
            exception is Polly.Timeout.TimeoutRejectedException ? "timeout" : null,
            exception is Polly.Timeout.TimeoutRejectedException
                ? $"The request timed out: {exception.Message}"
                : $"The server could not be reached: {Redact(exception.Message, apiKey)}",
            Leaks(exception, apiKey) ? null : exception);

    /// <summary>Whether an exception's text (with its inner exceptions) contains the key; such an exception is never chained.</summary>
    private static bool Leaks(Exception exception, string? apiKey) =>
        !string.IsNullOrEmpty(apiKey) && exception.ToString().Contains(apiKey, StringComparison.Ordinal);

    /// <summary>Removes the configured key from a server message, in case a server echoes it.</summary>
    public static string Redact(string text, string? apiKey) =>
        string.IsNullOrEmpty(apiKey) || apiKey.Length < 4 ? text : text.Replace(apiKey, "***", StringComparison.Ordinal);

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
