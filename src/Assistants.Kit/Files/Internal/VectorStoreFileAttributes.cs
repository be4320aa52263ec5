using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Files.Internal;

/// <summary>
/// Vector store file attributes: at most 16 keys of up to 64 characters, values strings (up to 512 characters),
/// numbers or booleans; the kit's own keys hold the content hash and the file name.
/// </summary>
internal static class VectorStoreFileAttributes
{
    private const int MaxKeyLength = 64;
    private const int MaxStringLength = 512;

    /// <summary>The attributes of one ingested file: the caller's (common, then per file) and the kit's two.</summary>
    public static JsonObject Build(string fileName, string contentHash, IDictionary<string, object> common, IDictionary<string, object> perFile)
    {
        var merged = new Dictionary<string, object>(common, StringComparer.Ordinal);
        foreach (var (key, value) in perFile)
        {
            merged[key] = value;
        }

        foreach (var reserved in new[] { AssistantFiles.ContentHashAttribute, AssistantFiles.FileNameAttribute })
        {
            if (merged.ContainsKey(reserved))
            {
                throw new ArgumentException($"The attribute '{reserved}' of '{fileName}' is the kit's own (it finds ingested files by it); choose another key.", nameof(perFile));
            }
        }

        var json = ToJson(merged, FileLimits.MaxAttributes - 2, fileName);
        json[AssistantFiles.ContentHashAttribute] = contentHash;
        json[AssistantFiles.FileNameAttribute] = fileName.Length > MaxStringLength ? fileName[..MaxStringLength] : fileName;
        return json;
    }

    /// <summary>Validates attributes and writes them as JSON; messages name the file, the key and the bad value.</summary>
    public static JsonObject ToJson(IEnumerable<KeyValuePair<string, object>>? attributes, int maxCount, string? fileName = null)
    {
        var json = new JsonObject();
        var where = fileName is null ? string.Empty : $" of '{fileName}'";
        foreach (var (key, value) in attributes ?? [])
        {
            if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength)
            {
                throw new ArgumentException(Invariant($"The attribute key '{key}'{where} must be 1 to {MaxKeyLength} characters (was {key?.Length ?? 0})."), nameof(attributes));
            }

            json[key] = value switch
            {
                string s when s.Length > MaxStringLength => throw new ArgumentException(
                    Invariant($"The attribute '{key}'{where} is {s.Length} characters; attribute strings hold at most {MaxStringLength}."), nameof(attributes)),
                string s => JsonValue.Create(s),
                bool b => JsonValue.Create(b),
                int or long or short or byte or sbyte or ushort or uint => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
                float or double or decimal => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
                _ => throw new ArgumentException(
                    $"The attribute '{key}'{where} is a {value?.GetType().Name ?? "null"}; attributes are strings, numbers or booleans.", nameof(attributes)),
            };
        }

        if (json.Count > maxCount)
        {
            throw new ArgumentException(
                Invariant($"{json.Count} attributes were given{where}; at most {maxCount} fit (a vector store file holds {FileLimits.MaxAttributes}, the kit keeps {FileLimits.MaxAttributes - maxCount})."),
                nameof(attributes));
        }

        return json;
    }

    /// <summary>A string attribute from the official client's raw JSON values.</summary>
    public static string? ReadString(IDictionary<string, BinaryData>? attributes, string key)
    {
        if (attributes is null || !attributes.TryGetValue(key, out var data) || data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
