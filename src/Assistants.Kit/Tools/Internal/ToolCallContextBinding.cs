using System.Reflection;
using Microsoft.Extensions.AI;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// How the kit's injected parameters are bound: <see cref="ToolCallContext"/> through AIFunctionFactory's parameter binding
/// options (from <see cref="AIFunctionArguments.Context"/>), <see cref="CancellationToken"/>, <see cref="IServiceProvider"/>
/// and <see cref="AIFunctionArguments"/> by AIFunctionFactory itself. None of them appears in the schema.
/// </summary>
internal static class ToolCallContextBinding
{
    /// <summary>The key of the <see cref="ToolCallContext"/> in <see cref="AIFunctionArguments.Context"/>.</summary>
    public static readonly Type ContextKey = typeof(ToolCallContext);

    /// <summary>The <see cref="AIFunctionFactoryOptions.ConfigureParameterBinding"/> callback (one instance, so descriptors are cached).</summary>
    public static readonly Func<ParameterInfo, AIFunctionFactoryOptions.ParameterBindingOptions> Configure = ConfigureParameter;

    public static bool IsInjected(Type type) =>
        type == typeof(CancellationToken) || type == typeof(IServiceProvider) ||
        type == typeof(AIFunctionArguments) || type == typeof(ToolCallContext);

    /// <summary>Gets the argument name AIFunctionFactory binds <paramref name="parameter"/> from.</summary>
    public static string GetArgumentName(ParameterInfo parameter)
    {
#pragma warning disable MEAI001 // AIParameterNameAttribute is experimental; honouring it keeps the binder in step with the schema.
        return parameter.GetCustomAttribute<AIParameterNameAttribute>()?.Name ?? parameter.Name!;
#pragma warning restore MEAI001
    }

    private static AIFunctionFactoryOptions.ParameterBindingOptions ConfigureParameter(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(ToolCallContext)
            ? new() { ExcludeFromSchema = true, BindParameter = BindContext }
            : default;

    private static object? BindContext(ParameterInfo parameter, AIFunctionArguments arguments) =>
        arguments.Context is { } context && context.TryGetValue(ContextKey, out object? value)
            ? value
            : throw new InvalidOperationException(
                $"The parameter '{parameter.Name}' needs a {nameof(ToolCallContext)}, which the kit supplies when it executes a tool call.");
}
