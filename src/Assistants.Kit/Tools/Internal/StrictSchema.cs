using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Assistants.Kit.Tools.Internal;

/// <summary>Turns a function's parameter schema into one OpenAI accepts in strict mode.</summary>
/// <remarks>
/// Strict mode requires every property to be listed in <c>required</c> and <c>additionalProperties: false</c> on every
/// object, and does not support <c>default</c>. An optional tool parameter therefore becomes a required, nullable one; the
/// argument binder maps a <c>null</c> for it back to the parameter's default value.
/// </remarks>
internal static class StrictSchema
{
    // Pass 1 sees the schema as generated, so the root's "required" still tells which parameters are optional.
    private static readonly AIJsonSchemaTransformOptions OptionalParametersNullable = new()
    {
        TransformSchemaNode = MakeOptionalParametersNullable,
    };

    // Pass 2: the standard strict-mode rules.
    private static readonly AIJsonSchemaTransformOptions OpenAIStrict = new()
    {
        DisallowAdditionalProperties = true,
        RequireAllProperties = true,
        MoveDefaultKeywordToDescription = true,
        ConvertBooleanSchemas = true,
    };

    public static JsonElement Apply(JsonElement schema) =>
        AIJsonUtilities.TransformSchema(AIJsonUtilities.TransformSchema(schema, OptionalParametersNullable), OpenAIStrict);

    private static JsonNode MakeOptionalParametersNullable(AIJsonSchemaTransformContext context, JsonNode node)
    {
        // Only the root object's properties are the tool's parameters; nested objects keep their own types.
        if (!context.Path.IsEmpty || node is not JsonObject root || root["properties"] is not JsonObject properties)
        {
            return node;
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (root["required"] is JsonArray requiredArray)
        {
            foreach (JsonNode? name in requiredArray)
            {
                if (name?.GetValueKind() == JsonValueKind.String)
                {
                    _ = required.Add(name.GetValue<string>());
                }
            }
        }

        foreach ((string name, JsonNode? property) in properties)
        {
            if (!required.Contains(name) && property is JsonObject parameter)
            {
                MakeNullable(parameter);
            }
        }

        return node;
    }

    private static void MakeNullable(JsonObject schema)
    {
        switch (schema["type"])
        {
            case JsonArray types when !types.Any(t => t?.GetValueKind() == JsonValueKind.String && t.GetValue<string>() == "null"):
                types.Add("null");
                break;
            case JsonValue type when type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() != "null":
                schema["type"] = new JsonArray(type.GetValue<string>(), "null");
                break;
        }

        if (schema["enum"] is JsonArray values && !values.Any(v => v is null))
        {
            values.Add(null);
        }
    }
}
