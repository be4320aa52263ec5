using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Assistants.Kit.Tests.Configuration;

/// <summary>
/// The kit's public surface exposes no type of the OpenAI library that is marked <see cref="ExperimentalAttribute"/>
/// (the Assistants API types are, in OpenAI 2.x): apps using the kit must not have to suppress OPENAI001.
/// </summary>
public sealed class PublicSurfaceTests
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static TheoryData<string> KitAssemblies => new()
    {
        typeof(AssistantRunner).Assembly.GetName().Name!,
        typeof(Testing.AssistantsEmulator).Assembly.GetName().Name!,
        typeof(SqliteStoreOptions).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(KitAssemblies))]
    public void NoExperimentalOpenAIType_InThePublicSurface(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);

        var leaks = ExperimentalOpenAITypesIn(assembly);

        Assert.True(leaks.Count == 0, "Experimental OpenAI types in the public surface of " + assemblyName + ":\n" + string.Join("\n", leaks));
    }

    [Fact]
    public void TheCheck_FindsALeak()
    {
        // The probe is a public type of this (test) assembly exposing an experimental OpenAI type in several positions.
        var experimental = typeof(OpenAI.Assistants.AssistantClient);
        Assert.NotNull(experimental.GetCustomAttribute<ExperimentalAttribute>());

        var leaks = ExperimentalOpenAITypesIn([typeof(LeakProbe), typeof(LeakProbe.Nested)]);

        Assert.Contains(leaks, l => l.Contains("LeakProbe.Client", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Get", StringComparison.Ordinal) && l.Contains("ThreadRun", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Take", StringComparison.Ordinal) && l.Contains("RunCreationOptions", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Changed", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Field", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("Nested base type", StringComparison.Ordinal));
        Assert.DoesNotContain(leaks, l => l.Contains("Hidden", StringComparison.Ordinal)); // private members are not surface
    }

    /// <summary>Lists every public or protected position of the assembly's exported types naming an experimental OpenAI type.</summary>
    internal static List<string> ExperimentalOpenAITypesIn(Assembly assembly) => ExperimentalOpenAITypesIn(assembly.GetExportedTypes());

    internal static List<string> ExperimentalOpenAITypesIn(IEnumerable<Type> exported)
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

#pragma warning disable OPENAI001, CA1051, CA1822, CA1716, CA1720, CS0067, IDE0051, CA1823 // a deliberate leak, to prove the check sees it
    /// <summary>Exposes experimental OpenAI types on purpose.</summary>
    public class LeakProbe
    {
        /// <summary>A field.</summary>
        public OpenAI.Assistants.AssistantThread? Field;

        /// <summary>An event.</summary>
        public event EventHandler<OpenAI.Assistants.MessageCreationOptions>? Changed;

        /// <summary>Gets a property.</summary>
        public OpenAI.Assistants.AssistantClient? Client { get; }

        /// <summary>A generic return.</summary>
        /// <returns>Nothing.</returns>
        public Task<IReadOnlyList<OpenAI.Assistants.ThreadRun>> Get() => Task.FromResult<IReadOnlyList<OpenAI.Assistants.ThreadRun>>([]);

        /// <summary>A by-ref parameter.</summary>
        /// <param name="options">The options.</param>
        protected void Take(ref OpenAI.Assistants.RunCreationOptions options)
        {
        }

        private OpenAI.Assistants.AssistantClient? Hidden() => null;

        /// <summary>A base type.</summary>
        public sealed class Nested : List<OpenAI.Assistants.Assistant>
        {
        }
    }
#pragma warning restore OPENAI001, CA1051, CA1822, CA1716, CA1720, CS0067, IDE0051, CA1823
}
