using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Assistants.Kit.Tests.Support;

/// <summary>
/// Finds the OpenAI types marked <see cref="ExperimentalAttribute"/> in a public surface: base types, interfaces, generic
/// constraints, and the types of public or protected fields, properties, indexers, events, method returns and parameters
/// (element types, generic arguments and declaring types included). Shared with the Stores tests (the Redis assembly).
/// </summary>
internal static class ExperimentalSurface
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Lists every public or protected position of the assembly's exported types naming an experimental OpenAI type.</summary>
    public static List<string> OpenAITypesIn(Assembly assembly) => OpenAITypesIn(assembly.GetExportedTypes());

    public static List<string> OpenAITypesIn(IEnumerable<Type> exported)
    {
        var leaks = new List<string>();
        foreach (var type in exported)
        {
            var name = type.FullName ?? type.Name;
            Check(type.BaseType, name + " base type", leaks);
            foreach (var contract in type.GetInterfaces())
            {
                Check(contract, name + " interface", leaks);
            }

            if (type.IsGenericTypeDefinition)
            {
                foreach (var constraint in type.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()))
                {
                    Check(constraint, name + " generic constraint", leaks);
                }
            }

            foreach (var member in type.GetMembers(Declared))
            {
                var where = name + "." + member.Name;
                switch (member)
                {
                    case FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly:
                        Check(f.FieldType, where, leaks);
                        break;
                    case PropertyInfo p when p.GetAccessors(nonPublic: true).Any(Visible):
                        Check(p.PropertyType, where, leaks);
                        foreach (var index in p.GetIndexParameters())
                        {
                            Check(index.ParameterType, where, leaks);
                        }

                        break;
                    case EventInfo e when e.AddMethod is { } add && Visible(add):
                        Check(e.EventHandlerType, where, leaks);
                        break;
                    case MethodBase m when Visible(m):
                        if (m is MethodInfo method)
                        {
                            Check(method.ReturnType, where + " return", leaks);
                            if (method.IsGenericMethodDefinition)
                            {
                                foreach (var constraint in method.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()))
                                {
                                    Check(constraint, where + " generic constraint", leaks);
                                }
                            }
                        }

                        foreach (var parameter in m.GetParameters())
                        {
                            Check(parameter.ParameterType, where + " parameter " + parameter.Name, leaks);
                        }

                        break;
                }
            }
        }

        return leaks;
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static void Check(Type? type, string where, List<string> leaks)
    {
        foreach (var part in Unwrap(type))
        {
            if (part.Assembly == typeof(OpenAI.OpenAIClient).Assembly && part.GetCustomAttribute<ExperimentalAttribute>(inherit: false) is { } attribute)
            {
                leaks.Add($"{where}: {part.FullName} [Experimental(\"{attribute.DiagnosticId}\")]");
            }
        }
    }

    /// <summary>The type and every type it is made of: element types, generic arguments, declaring types of nested types.</summary>
    private static IEnumerable<Type> Unwrap(Type? type)
    {
        if (type is null || type.IsGenericParameter)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var element in Unwrap(type.GetElementType()))
            {
                yield return element;
            }

            yield break;
        }

        yield return type;
        if (type.IsNested)
        {
            foreach (var outer in Unwrap(type.DeclaringType))
            {
                yield return outer;
            }
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Unwrap))
            {
                yield return argument;
            }
        }
    }
}
