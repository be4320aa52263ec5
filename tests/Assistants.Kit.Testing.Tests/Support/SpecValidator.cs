using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>
/// Checks JSON against the schemas of the trimmed OpenAPI spec (the subset the Responses spec uses: <c>$ref</c>,
/// <c>allOf</c>, <c>anyOf</c>/<c>oneOf</c> (a <c>type</c>-discriminated branch is chosen by the value's <c>type</c>),
/// <c>type</c>, <c>enum</c>, <c>properties</c>, <c>required</c>, <c>items</c>). Reports missing required properties,
/// properties the schema does not declare, wrong JSON types and values outside an enum, each with its JSON path.
/// </summary>
internal sealed class SpecValidator
{
    private readonly JsonObject _schemas;

    public SpecValidator(string specPath)
    {
        var spec = JsonNode.Parse(File.ReadAllText(specPath))!;
        _schemas = spec["components"]!["schemas"]!.AsObject();
        Spec = spec;
    }

    public JsonNode Spec { get; }

    public List<string> Validate(string schemaName, JsonNode? value, string path = "$")
    {
        var errors = new List<string>();
        Check(_schemas[schemaName]!, value, path, errors);
        return errors;
    }

    private JsonNode Resolve(JsonNode schema)
    {
        while (schema is JsonObject o && (string?)o["$ref"] is { } reference)
        {
            schema = _schemas[reference.Split('/')[^1]]!;
        }

        return schema;
    }

    private void Check(JsonNode schemaNode, JsonNode? value, string path, List<string> errors)
    {
        var schema = (JsonObject)Resolve(schemaNode);
        var branches = (schema["anyOf"] ?? schema["oneOf"]) as JsonArray;
        if (branches is not null)
        {
            var candidates = branches.Select(b => Resolve(b!)).ToList();
            if (value is JsonObject obj && (string?)obj["type"] is { } type)
            {
                var typed = candidates.Where(c => TypeEnum(c) is { } e && e.Contains(type)).ToList();
                if (typed.Count > 0)
                {
                    candidates = typed;
                }
            }

            List<string>? best = null;
            foreach (var candidate in candidates)
            {
                var attempt = new List<string>();
                Check(candidate, value, path, attempt);
                if (best is null || attempt.Count < best.Count)
                {
                    best = attempt;
                }

                if (best.Count == 0)
                {
                    break;
                }
            }

            errors.AddRange(best ?? []);
            if (schema["properties"] is null && schema["allOf"] is null)
            {
                return;
            }
        }

        var kind = Kind(value);
        var types = Types(schema);
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")) && !(kind == "null" && (bool?)schema["nullable"] == true))
        {
            errors.Add($"{path}: {kind}, the spec says {string.Join("|", types)}");
            return;
        }

        if (schema["enum"] is JsonArray values && value is JsonValue v && v.GetValueKind() == JsonValueKind.String && !values.Any(e => e?.ToJsonString() == v.ToJsonString()))
        {
            errors.Add($"{path}: {v.ToJsonString()} is not one of the spec's values");
        }

        if (value is JsonObject o)
        {
            var properties = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
            var required = new HashSet<string>(StringComparer.Ordinal);
            var declares = Collect(schema, properties, required);
            foreach (var name in required.Where(r => !o.ContainsKey(r)))
            {
                errors.Add($"{path}.{name}: required by the spec, missing");
            }

            foreach (var (name, item) in o)
            {
                if (properties.TryGetValue(name, out var propertySchema))
                {
                    Check(propertySchema, item, $"{path}.{name}", errors);
                }
                else if (declares)
                {
                    errors.Add($"{path}.{name}: not in the spec");
                }
            }
        }
        else if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(items, array[i], $"{path}[*]", errors);
            }
        }
    }

    /// <summary>Collects the properties and required names of a schema and its allOf parts; whether it declares any.</summary>
    private bool Collect(JsonObject schema, Dictionary<string, JsonNode> properties, HashSet<string> required)
    {
        var declares = false;
        if (schema["properties"] is JsonObject own)
        {
            declares = schema["additionalProperties"] is null || (schema["additionalProperties"] is JsonValue b && b.GetValueKind() == JsonValueKind.False);
            foreach (var (name, item) in own)
            {
                properties[name] = item!;
            }
        }

        foreach (var name in (schema["required"] as JsonArray ?? []).Select(r => (string)r!))
        {
            required.Add(name);
        }

        foreach (var part in schema["allOf"] as JsonArray ?? [])
        {
            declares |= Collect((JsonObject)Resolve(part!), properties, required);
        }

        return declares;
    }

    private HashSet<string>? TypeEnum(JsonNode schema)
    {
        var o = (JsonObject)Resolve(schema);
        var properties = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        Collect(o, properties, []);
        return properties.TryGetValue("type", out var type) && Resolve(type)["enum"] is JsonArray e
            ? e.Select(x => (string?)x ?? "").ToHashSet(StringComparer.Ordinal)
            : null;
    }

    private static HashSet<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonValue v => [(string)v!],
        JsonArray a => a.Select(t => (string)t!).ToHashSet(StringComparer.Ordinal),
        _ => [],
    };

    private static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => v.TryGetValue(out long _) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "?",
    };
}
