using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Assistants.Kit.Tools.Internal;

/// <summary>Builds the strings submitted as tool outputs: results, error objects, truncation (see <see cref="ToolOutputs"/>).</summary>
internal static class ToolOutput
{
    private static readonly JsonWriterOptions ErrorWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Formats what a kit-built handler returned; <paramref name="declaredType"/> is <see langword="null"/> for <c>void</c>/<c>Task</c>/<c>ValueTask</c>.</summary>
    public static string FormatReturnValue(object? value, Type? declaredType, JsonSerializerOptions options) => declaredType is null
        ? ToolOutputs.Acknowledgement
        : value switch
        {
            null => "null",
            string text => text,
            JsonElement element => Format(element),
            _ => JsonSerializer.Serialize(value, options.GetTypeInfo(declaredType)),
        };

    /// <summary>Formats what <c>AIFunction.InvokeAsync</c> returned (already a string for kit-built handlers).</summary>
    public static string FormatInvocationResult(object? result, JsonSerializerOptions options) => result switch
    {
        string text => text,
        null => ToolOutputs.Acknowledgement,
        JsonElement element => Format(element),
        _ => JsonSerializer.Serialize(result, options.GetTypeInfo(result.GetType())),
    };

    /// <summary>Builds <c>{"error":{"type":…,"message":…[,"exception_type":…]}}</c>, keeping it within <paramref name="maxLength"/>.</summary>
    public static string Error(string type, string message, int maxLength, string? exceptionType = null)
    {
        // Half the limit leaves ample room for the envelope, the type names and JSON escaping.
        int maxMessageLength = maxLength / 2;
        if (message.Length > maxMessageLength)
        {
            message = string.Concat(message.AsSpan(0, maxMessageLength), "…");
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, ErrorWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("type", type);
            writer.WriteString("message", message);
            if (exceptionType is not null)
            {
                writer.WriteString("exception_type", exceptionType);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Cuts <paramref name="output"/> to at most <paramref name="maxLength"/> characters, marker included.</summary>
    public static string Truncate(string output, int maxLength)
    {
        if (output.Length <= maxLength)
        {
            return output;
        }

        // The marker holds the count it shows, so its length depends on that count: settle on the largest that fits.
        int shown = maxLength - Marker(maxLength, output.Length).Length;
        int roomier = maxLength - Marker(shown, output.Length).Length;
        if (roomier + Marker(roomier, output.Length).Length <= maxLength)
        {
            shown = roomier;
        }

        if (shown > 0 && char.IsHighSurrogate(output[shown - 1]))
        {
            shown--; // never split a surrogate pair
        }

        return string.Concat(output.AsSpan(0, shown), Marker(shown, output.Length));
    }

    private static string Marker(int shown, int total) =>
        string.Create(CultureInfo.InvariantCulture, $"\n{ToolOutputs.TruncationMarkerPrefix}: showing {shown} of {total} characters]");

    private static string Format(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Undefined => ToolOutputs.Acknowledgement,
        _ => element.GetRawText(),
    };
}
