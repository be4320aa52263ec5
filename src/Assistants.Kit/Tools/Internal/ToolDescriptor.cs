using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Assistants.Kit.Tools.Internal;

/// <summary>A registered tool: its declaration, how to bind its arguments, and the function that runs it.</summary>
internal sealed class ToolDescriptor
{
    public ToolDescriptor(string source, AIFunction function, FunctionToolSpec spec, IReadOnlyDictionary<string, ToolParameter>? typedParameters)
    {
        Source = source;
        Function = function;
        Spec = spec;
        TypedParameters = typedParameters;

        // Required and optional arguments are read from the schema AIFunctionFactory (or the function's author) produced,
        // before any strict-mode transformation: that is what the handler's binding expects.
        var declared = new HashSet<string>(StringComparer.Ordinal);
        var required = new List<string>();
        JsonElement schema = function.JsonSchema;
        if (schema.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in properties.EnumerateObject())
                {
                    _ = declared.Add(property.Name);
                }
            }

            if (schema.TryGetProperty("required", out JsonElement requiredArray) && requiredArray.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement name in requiredArray.EnumerateArray())
                {
                    if (name.ValueKind == JsonValueKind.String)
                    {
                        required.Add(name.GetString()!);
                    }
                }
            }
        }

        DeclaredArguments = declared;
        RequiredArguments = required;
    }

    /// <summary>Gets the tool name the model uses.</summary>
    public string Name => Spec.Name;

    /// <summary>Gets what registered the tool, for messages: <c>OrderTools.GetStatus(String)</c>.</summary>
    public string Source { get; }

    /// <summary>Gets the function that binds the arguments and runs the handler.</summary>
    public AIFunction Function { get; }

    /// <summary>Gets the declaration sent to the model.</summary>
    public FunctionToolSpec Spec { get; }

    /// <summary>Gets the names of the arguments the schema declares.</summary>
    public IReadOnlySet<string> DeclaredArguments { get; }

    /// <summary>Gets the names of the arguments the handler requires, in schema order.</summary>
    public IReadOnlyList<string> RequiredArguments { get; }

    /// <summary>
    /// Gets the handler's JSON-bound parameters by argument name when the kit built the function from a .NET method, or
    /// <see langword="null"/> for an <see cref="AIFunction"/> registered as is (its arguments are passed as JSON).
    /// </summary>
    public IReadOnlyDictionary<string, ToolParameter>? TypedParameters { get; }

    /// <summary>Gets a value indicating whether <paramref name="name"/> is a declared argument that is not required.</summary>
    public bool IsOptional(string name) => DeclaredArguments.Contains(name) && !RequiredArguments.Contains(name);
}

/// <summary>A handler parameter bound from the model's JSON arguments.</summary>
/// <param name="Name">The argument name in the schema.</param>
/// <param name="TypeInfo">The contract used to deserialize it.</param>
/// <param name="AllowsNull">Whether <c>null</c> is an acceptable value (nullable value or reference type).</param>
internal sealed record ToolParameter(string Name, JsonTypeInfo TypeInfo, bool AllowsNull);
