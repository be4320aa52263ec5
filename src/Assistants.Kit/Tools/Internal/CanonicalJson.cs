using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Writes a JSON text in one canonical form, so that two texts of the same value compare equal: object keys sorted
/// (ordinal), no whitespace, strings re-escaped, numbers normalized (<c>1.0</c> and <c>1</c> are the same).
/// </summary>
internal static class CanonicalJson
{
    /// <summary>Returns the canonical form, or the trimmed text itself when it is not valid JSON.</summary>
    public static string Canonicalize(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "{}";
        }

        JsonElement root;
        try
        {
            root = JsonElement.Parse(json, ToolArgumentBinder.LenientJson);
        }
        catch (JsonException)
        {
            return json.Trim();
        }

        var buffer = new ArrayBufferWriter<byte>(json.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, root);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (JsonProperty property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;

            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;

            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;

            case JsonValueKind.Number when element.TryGetDecimal(out decimal number):
                // Dividing by 1.000… strips trailing zeros (1.50 → 1.5, 1.0 → 1).
                writer.WriteNumberValue(number / 1.000000000000000000000000000000000m);
                break;

            default:
                element.WriteTo(writer); // numbers beyond decimal, true, false, null
                break;
        }
    }
}
