using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Reads and validates one JSON object of a request body, answering every problem with the error OpenAI's request
/// validator gives (missing_required_parameter, invalid_type, unknown_parameter, *_above_max_value, ...).
/// </summary>
internal sealed class JsonBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private readonly string _prefix;

    public JsonBody(JsonObject node, string prefix = "")
    {
        Node = node;
        _prefix = prefix;
    }

    public JsonObject Node { get; }

    /// <summary>Parses a request body; an empty body is an empty object.</summary>
    public static JsonBody Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new JsonBody([]);
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: DocumentOptions);
        }
        catch (JsonException)
        {
            throw ApiException.InvalidJson();
        }

        if (node is not JsonObject obj)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid type for body: expected an object, but got {ApiException.Describe(node)} instead."),
                null,
                "invalid_type");
        }

        return new JsonBody(obj);
    }

    public string PathOf(string name) => _prefix.Length == 0 ? name : $"{_prefix}.{name}";

    /// <summary>Rejects any property not in <paramref name="allowed"/> (OpenAI answers <c>unknown_parameter</c>).</summary>
    public void AllowOnly(params string[] allowed)
    {
        foreach (var property in Node)
        {
            if (System.Array.IndexOf(allowed, property.Key) < 0)
            {
                throw ApiException.UnknownParameter(PathOf(property.Key));
            }
        }
    }

    /// <summary>Whether the property is present with a non-null value.</summary>
    public bool Has(string name) => Node.TryGetPropertyValue(name, out var value) && value is not null;

    /// <summary>Whether the property is present at all (explicit null included).</summary>
    public bool Contains(string name) => Node.ContainsKey(name);

    public JsonNode? Raw(string name) => Node.TryGetPropertyValue(name, out var value) ? value : null;

    public string RequiredString(string name, int? maxLength = null) =>
        String(name, maxLength) ?? throw ApiException.MissingParameter(PathOf(name));

    public string? String(string name, int? maxLength = null)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            throw ApiException.InvalidType(PathOf(name), "a string", value);
        }

        var s = v.GetValue<string>();
        if (maxLength is { } max && s.Length > max)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': string too long. Expected a string with maximum length {max}, but got a string with length {s.Length} instead."),
                PathOf(name),
                "string_above_max_length");
        }

        return s;
    }

    public string? Enum(string name, params string[] supported)
    {
        var value = String(name);
        if (value is not null && System.Array.IndexOf(supported, value) < 0)
        {
            throw ApiException.InvalidValue(PathOf(name), value, supported);
        }

        return value;
    }

    public double? Number(string name, double? min = null, double? max = null)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            throw ApiException.InvalidType(PathOf(name), "a decimal", value);
        }

        var d = ToDouble(v);
        CheckRange(name, d, min, max, "decimal");
        return d;
    }

    public int? Integer(string name, int? min = null, int? max = null)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || ApiException.Describe(v) != "an integer")
        {
            throw ApiException.InvalidType(PathOf(name), "an integer", value);
        }

        var d = ToDouble(v);
        CheckRange(name, d, min, max, "integer");
        return d > int.MaxValue ? int.MaxValue : (int)d;
    }

    public bool? Boolean(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw ApiException.InvalidType(PathOf(name), "a boolean", value);
        }

        return v.GetValue<bool>();
    }

    public JsonBody? Object(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        return value is JsonObject o ? new JsonBody(o, PathOf(name)) : throw ApiException.InvalidType(PathOf(name), "an object", value);
    }

    public JsonArray? Array(string name, int? maxItems = null)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonArray a)
        {
            throw ApiException.InvalidType(PathOf(name), "an array", value);
        }

        if (maxItems is { } max && a.Count > max)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': array too long. Expected an array with maximum length {max}, but got an array with length {a.Count} instead."),
                PathOf(name),
                "array_above_max_length");
        }

        return a;
    }

    /// <summary>The objects of an array property, each wrapped for validation with its indexed path.</summary>
    public IReadOnlyList<JsonBody> Objects(string name, int? maxItems = null)
    {
        var array = Array(name, maxItems);
        if (array is null)
        {
            return [];
        }

        var result = new List<JsonBody>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{PathOf(name)}[{i}]");
            result.Add(array[i] is JsonObject o ? new JsonBody(o, path) : throw ApiException.InvalidType(path, "an object", array[i]));
        }

        return result;
    }

    /// <summary>Reads a metadata map: at most 16 pairs, keys up to 64 characters, string values up to 512.</summary>
    public Dictionary<string, string>? Metadata(string name = "metadata")
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value is not JsonObject o)
        {
            throw ApiException.InvalidType(PathOf(name), "an object", value);
        }

        if (o.Count > 16)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': too many properties. Expected an object with at most 16 properties, but got an object with {o.Count} properties instead."),
                PathOf(name),
                "object_above_max_properties");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, item) in o)
        {
            var path = $"{PathOf(name)}.{key}";
            if (key.Length > 64)
            {
                throw ApiException.BadRequest(
                    string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': key too long. Expected a key with maximum length 64, but got a key with length {key.Length} instead."),
                    PathOf(name),
                    "string_above_max_length");
            }

            if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            {
                throw ApiException.InvalidType(path, "a string", item);
            }

            var s = v.GetValue<string>();
            if (s.Length > 512)
            {
                throw ApiException.BadRequest(
                    string.Create(CultureInfo.InvariantCulture, $"Invalid '{path}': string too long. Expected a string with maximum length 512, but got a string with length {s.Length} instead."),
                    path,
                    "string_above_max_length");
            }

            result[key] = s;
        }

        return result;
    }

    private static double ToDouble(JsonValue value) =>
        value.TryGetValue(out double d) ? d
        : value.TryGetValue(out long l) ? l
        : value.TryGetValue(out int i) ? i
        : double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);

    private void CheckRange(string name, double value, double? min, double? max, string kind)
    {
        var shown = value.ToString(CultureInfo.InvariantCulture);
        if (min is { } lo && value < lo)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': {kind} below minimum value. Expected a value >= {lo}, but got {shown} instead."),
                PathOf(name),
                $"{kind}_below_min_value");
        }

        if (max is { } hi && value > hi)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"Invalid '{PathOf(name)}': {kind} above maximum value. Expected a value <= {hi}, but got {shown} instead."),
                PathOf(name),
                $"{kind}_above_max_value");
        }
    }
}
