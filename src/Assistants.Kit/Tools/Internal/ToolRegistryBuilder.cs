using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Turns the registered <see cref="ToolSource"/>s into <see cref="ToolDescriptor"/>s over <see cref="AIFunctionFactory"/>,
/// collecting every problem so that one exception names all of them.
/// </summary>
internal sealed partial class ToolRegistryBuilder
{
    private const string NamePattern = "^[A-Za-z0-9_-]{1,64}$";

    private readonly List<ToolDescriptor> _tools = [];
    private readonly List<string> _errors = [];
    private readonly NullabilityInfoContext _nullability = new();
    private readonly Func<object?, Type?, CancellationToken, ValueTask<object?>> _marshalResult;

    public ToolRegistryBuilder(ToolOptions options)
    {
        Options = options;
        JsonSerializerOptions serializerOptions = options.SerializerOptions;

        // Results become the output string inside the function, so a string result is never JSON-quoted and the value is
        // serialized once, with the declared type.
        _marshalResult = (value, declaredType, _) =>
            new ValueTask<object?>(ToolOutput.FormatReturnValue(value, declaredType, serializerOptions));
    }

    public ToolOptions Options { get; }

    public void AddError(string source, string problem) => _errors.Add($"{source}: {problem}.");

    /// <summary>Adds a tool implemented by a .NET method (a marked method, or the method of a delegate).</summary>
    public void AddMethod(MethodInfo method, string? name, string? description, string source, ToolTarget target, bool isDelegate = false)
    {
        bool valid = CheckName(name, source);
        valid &= CheckSignature(method, source, isDelegate);
        if (!method.IsStatic && target.ServiceType is { } serviceType && IsDisposable(serviceType))
        {
            AddError(source, $"its class {MethodDisplay.Describe(serviceType)} is disposable; a tool class is resolved from the run's scope and shared by the run's calls, so keep disposable resources in services it depends on");
            valid = false;
        }

        if (!valid)
        {
            return;
        }

        var factoryOptions = new AIFunctionFactoryOptions
        {
            Name = name,
            Description = description,
            SerializerOptions = Options.SerializerOptions,
            ConfigureParameterBinding = ToolCallContextBinding.Configure,
            MarshalResult = _marshalResult,
            ExcludeResultSchema = true,
        };

        AIFunction function;
        try
        {
            function = method.IsStatic
                ? AIFunctionFactory.Create(method, target: null, factoryOptions)
                : target.ServiceType is { } type
                    ? AIFunctionFactory.Create(method, arguments => ResolveToolInstance(arguments, type), factoryOptions)
                    : AIFunctionFactory.Create(method, target: target.Instance, factoryOptions);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or NotSupportedException or InvalidOperationException)
        {
            AddError(source, $"AIFunctionFactory cannot describe it: {ex.Message}");
            return;
        }

        Add(source, function, BindParameters(method, function));
    }

    /// <summary>Adds an <see cref="AIFunction"/> as is; its name is the tool name.</summary>
    public void AddFunction(AIFunction function, string source)
    {
        if (CheckName(function.Name, source))
        {
            Add(source, function, typedParameters: null);
        }
    }

    /// <summary>Gets the policies declared on <see cref="AssistantToolAttribute"/>s, by tool name.</summary>
    public Dictionary<string, ToolPolicy> AttributePolicies { get; } = new(StringComparer.Ordinal);

    /// <summary>Checks names, then returns the registry or throws naming every problem.</summary>
    /// <exception cref="InvalidOperationException">A registration is invalid.</exception>
    public ToolRegistry Build()
    {
        var byName = new Dictionary<string, ToolDescriptor>(StringComparer.Ordinal);
        foreach (ToolDescriptor tool in _tools)
        {
            if (!byName.TryAdd(tool.Name, tool))
            {
                _errors.Add($"{tool.Source}: the tool name '{tool.Name}' is already used by {byName[tool.Name].Source}; tool names must be unique.");
            }
        }

        if (_errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"The Assistants.Kit tool registrations are invalid:{Environment.NewLine}- {string.Join(Environment.NewLine + "- ", _errors)}");
        }

        return new ToolRegistry(_tools, byName, Options, AttributePolicies);
    }

    private void Add(string source, AIFunction function, IReadOnlyDictionary<string, ToolParameter>? typedParameters)
    {
        JsonElement schema = function.JsonSchema;
        if (Options.StrictSchemas)
        {
            schema = StrictSchema.Apply(schema);
        }

        string? description = string.IsNullOrWhiteSpace(function.Description) ? null : function.Description;
        var spec = new FunctionToolSpec(function.Name, description, schema, Options.StrictSchemas);
        _tools.Add(new ToolDescriptor(source, function, spec, typedParameters));
    }

    private bool CheckName(string? name, string source)
    {
        if (name is not null && ValidName().IsMatch(name))
        {
            return true;
        }

        AddError(source, $"the tool name '{name}' is invalid; a tool name must match {NamePattern}");
        return false;
    }

    private bool CheckSignature(MethodInfo method, string source, bool isDelegate)
    {
        int before = _errors.Count;

        // A delegate was handed over explicitly (lambdas compile to non-public methods); a marked method must be public.
        if (!isDelegate && !method.IsPublic)
        {
            AddError(source, "it is not public; tool methods must be public");
        }

        if (method.ContainsGenericParameters)
        {
            AddError(source, "it is an open generic method (or belongs to an open generic type); tool methods cannot have type parameters");
        }

        foreach (ParameterInfo parameter in method.GetParameters())
        {
            Type type = parameter.ParameterType;
            if (type.IsByRef)
            {
                string modifier = parameter.IsOut ? "out" : parameter.IsIn ? "in" : "ref";
                AddError(source, $"its parameter '{parameter.Name}' is passed by reference ({modifier}); tool parameters must be passed by value");
            }
            else if (type.IsPointer || type.IsByRefLike)
            {
                AddError(source, $"its parameter '{parameter.Name}' has type {MethodDisplay.Describe(type)}, which cannot be bound from JSON");
            }
        }

        Type returnType = method.ReturnType;
        if (returnType.IsByRef || returnType.IsPointer || returnType.IsByRefLike)
        {
            AddError(source, $"its return type {MethodDisplay.Describe(returnType)} cannot be serialized");
        }
        else if (IsAsyncEnumerable(returnType))
        {
            AddError(source, $"it returns {MethodDisplay.Describe(returnType)}; a tool returns one result, so return a list instead");
        }

        return _errors.Count == before;
    }

    private Dictionary<string, ToolParameter> BindParameters(MethodInfo method, AIFunction function)
    {
        var parameters = new Dictionary<string, ToolParameter>(StringComparer.Ordinal);
        JsonSerializerOptions serializerOptions = function.JsonSerializerOptions;
        foreach (ParameterInfo parameter in method.GetParameters())
        {
            Type type = parameter.ParameterType;
            if (ToolCallContextBinding.IsInjected(type))
            {
                continue;
            }

            string name = ToolCallContextBinding.GetArgumentName(parameter);
            bool allowsNull = type.IsValueType
                ? Nullable.GetUnderlyingType(type) is not null
                : _nullability.Create(parameter).WriteState is not NullabilityState.NotNull;
            parameters[name] = new ToolParameter(name, serializerOptions.GetTypeInfo(type), allowsNull);
        }

        return parameters;
    }

    private static object ResolveToolInstance(AIFunctionArguments arguments, Type type)
    {
        IServiceProvider services = arguments.Services
            ?? throw new InvalidOperationException($"No services were supplied to create the tool class {type.Name}.");
        object instance = services.GetRequiredService(type);

        // AIFunctionFactory disposes what this callback returns after the call; the run's scope owns the instance.
        return instance is IDisposable or IAsyncDisposable
            ? throw new InvalidOperationException(
                $"The tool class {instance.GetType().Name} is disposable; a tool class is shared by the calls of a run, so keep disposable resources in services it depends on.")
            : instance;
    }

    private static bool IsDisposable(Type type) =>
        typeof(IDisposable).IsAssignableFrom(type) || typeof(IAsyncDisposable).IsAssignableFrom(type);

    private static bool IsAsyncEnumerable(Type type)
    {
        if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            type = type.GetGenericArguments()[0];
        }

        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>);
    }

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
