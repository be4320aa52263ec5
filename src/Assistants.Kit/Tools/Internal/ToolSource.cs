using System.Reflection;
using Microsoft.Extensions.AI;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// One registration made on the builder (<c>AddTools&lt;T&gt;</c>, <c>AddTools(instance)</c>, <c>AddTool(name, delegate)</c>,
/// <c>AddTool(function)</c>). Sources are registered in DI as singletons and turned into tools once, by
/// <see cref="ToolRegistryBuilder"/>.
/// </summary>
internal abstract class ToolSource
{
    private const BindingFlags DeclaredMethods =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    /// <summary>Adds this source's tools, or the problems found with them, to <paramref name="builder"/>.</summary>
    public abstract void AddTo(ToolRegistryBuilder builder);

    /// <summary>Adds the methods of <paramref name="type"/> marked with <see cref="AssistantToolAttribute"/>.</summary>
    protected static void AddMarkedMethods(ToolRegistryBuilder builder, Type type, ToolTarget target)
    {
        bool any = false;
        foreach (MethodInfo method in type.GetMethods(DeclaredMethods))
        {
            if (method.GetCustomAttribute<AssistantToolAttribute>(inherit: true) is { } attribute)
            {
                any = true;
                builder.AddMethod(method, attribute.Name, attribute.Description, MethodDisplay.Describe(method), target);
                builder.AttributePolicies[attribute.Name] = new ToolPolicy { Idempotent = attribute.Idempotent, RequiresApproval = attribute.RequiresApproval };
            }
        }

        if (!any)
        {
            builder.AddError(MethodDisplay.Describe(type), "it has no method marked [AssistantTool]");
        }
    }
}

/// <summary><c>AddTools&lt;T&gt;()</c>: instance methods run on an instance of <see cref="Type"/> resolved from the run's scope.</summary>
internal sealed class TypeToolSource(Type type) : ToolSource
{
    public Type Type { get; } = type;

    public override void AddTo(ToolRegistryBuilder builder) => AddMarkedMethods(builder, Type, ToolTarget.FromServices(Type));
}

/// <summary><c>AddTools(instance)</c>: instance methods run on the given object, shared by every run.</summary>
internal sealed class InstanceToolSource(object instance) : ToolSource
{
    public object Instance { get; } = instance;

    public override void AddTo(ToolRegistryBuilder builder) => AddMarkedMethods(builder, Instance.GetType(), ToolTarget.Fixed(Instance));
}

/// <summary><c>AddTool(name, handler, description)</c>: a delegate, named explicitly.</summary>
internal sealed class DelegateToolSource(string name, Delegate handler, string? description) : ToolSource
{
    public override void AddTo(ToolRegistryBuilder builder) =>
        builder.AddMethod(
            handler.Method,
            name,
            description,
            $"delegate tool '{name}' ({MethodDisplay.Describe(handler.Method)})",
            ToolTarget.Fixed(handler.Target),
            isDelegate: true);
}

/// <summary><c>AddTool(function)</c>: any <see cref="AIFunction"/>, for example one from an MCP client.</summary>
internal sealed class FunctionToolSource(AIFunction function) : ToolSource
{
    public override void AddTo(ToolRegistryBuilder builder) =>
        builder.AddFunction(function, $"AIFunction '{function.Name}' ({function.GetType().Name})");
}

/// <summary>Where the receiver of an instance tool method comes from.</summary>
/// <param name="Instance">The fixed receiver, or <see langword="null"/>.</param>
/// <param name="ServiceType">The service resolved from the run's scope on each call, or <see langword="null"/>.</param>
internal readonly record struct ToolTarget(object? Instance, Type? ServiceType)
{
    public static ToolTarget Fixed(object? instance) => new(instance, null);

    public static ToolTarget FromServices(Type serviceType) => new(null, serviceType);
}
