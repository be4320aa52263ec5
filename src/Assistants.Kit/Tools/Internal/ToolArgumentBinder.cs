using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Reads the model's JSON arguments into <see cref="AIFunctionArguments"/> and rejects bad input before the handler runs,
/// so that every binding problem becomes an <c>invalid_arguments</c> output and never a handler exception.
/// </summary>
/// <remarks>
/// For handlers the kit built from .NET methods, each argument is deserialized to its parameter type here, with the same
/// <see cref="JsonSerializerOptions"/> AIFunctionFactory uses; AIFunctionFactory then passes the typed values through
/// unchanged. An <see cref="AIFunction"/> registered as is receives the arguments as <see cref="JsonElement"/>s, and only
/// missing required arguments (per its schema) are detected here.
/// </remarks>
internal static class ToolArgumentBinder
{
    /// <summary>Models occasionally leave a trailing comma or a comment; neither changes the arguments' meaning.</summary>
    public static readonly JsonDocumentOptions LenientJson = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    public static bool TryBind(
        ToolDescriptor tool,
        string argumentsJson,
        out AIFunctionArguments arguments,
        [NotNullWhen(false)] out string? problem)
    {
        arguments = [];
        problem = null;

        JsonElement root = default;
        if (!string.IsNullOrWhiteSpace(argumentsJson))
        {
            try
            {
                root = JsonElement.Parse(argumentsJson, LenientJson);
            }
            catch (JsonException ex)
            {
                problem = $"The arguments are not valid JSON: {ex.Message}";
                return false;
            }
        }

        // Some models send "" or null for a tool without parameters; both mean "no arguments".
        if (root.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            problem = $"The arguments must be a JSON object, not {root.ValueKind.ToString().ToLowerInvariant()}.";
            return false;
        }

        List<string>? problems = null;
        IReadOnlyDictionary<string, ToolParameter>? typed = tool.TypedParameters;
        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = property.Name;
                JsonElement value = property.Value;

                // null for an optional argument means "not given": the parameter's default applies (strict mode sends it).
                if (value.ValueKind == JsonValueKind.Null && tool.IsOptional(name))
                {
                    continue;
                }

                if (typed is null)
                {
                    arguments[name] = value;
                }
                else if (typed.TryGetValue(name, out ToolParameter? parameter))
                {
                    BindTyped(parameter, value, arguments, ref problems);
                }
                else if (tool.Function.JsonSerializerOptions.UnmappedMemberHandling == JsonUnmappedMemberHandling.Disallow)
                {
                    (problems ??= []).Add($"Unexpected argument '{name}'.");
                }
            }
        }

        foreach (string name in tool.RequiredArguments)
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out _))
            {
                (problems ??= []).Add($"Missing required argument '{name}'.");
            }
        }

        if (problems is null)
        {
            return true;
        }

        problem = string.Join(" ", problems);
        return false;
    }

    private static void BindTyped(ToolParameter parameter, JsonElement value, AIFunctionArguments arguments, ref List<string>? problems)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (parameter.AllowsNull)
            {
                arguments[parameter.Name] = null;
            }
            else
            {
                (problems ??= []).Add($"Argument '{parameter.Name}' must not be null.");
            }

            return;
        }

        try
        {
            arguments[parameter.Name] = JsonSerializer.Deserialize(value, parameter.TypeInfo);
        }
        catch (Exception ex)
        {
            // Whatever a converter throws for the model's input is a problem with the input, never a crashed run.
            (problems ??= []).Add($"Argument '{parameter.Name}' is invalid: {ex.Message}");
        }
    }
}
