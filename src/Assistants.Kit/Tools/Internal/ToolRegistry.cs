using System.Diagnostics.CodeAnalysis;

namespace Assistants.Kit.Tools.Internal;

/// <summary>The immutable set of registered tools, built once per <see cref="ToolOptions"/> instance.</summary>
internal sealed class ToolRegistry
{
    private readonly Dictionary<string, ToolDescriptor> _byName;

    private readonly IReadOnlyDictionary<string, ToolPolicy> _attributePolicies;

    public ToolRegistry(IReadOnlyList<ToolDescriptor> tools, Dictionary<string, ToolDescriptor> byName, ToolOptions options, IReadOnlyDictionary<string, ToolPolicy>? attributePolicies = null)
    {
        _attributePolicies = attributePolicies ?? new Dictionary<string, ToolPolicy>();
        Tools = tools;
        _byName = byName;
        Options = options;
        Specs = [.. tools.Select(t => t.Spec)];
    }

    /// <summary>Gets the options the tools were built with.</summary>
    public ToolOptions Options { get; }

    /// <summary>Gets the tools in registration order.</summary>
    public IReadOnlyList<ToolDescriptor> Tools { get; }

    /// <summary>Gets a tool's policy: configured in <see cref="ToolOptions.Policies"/>, else declared on its attribute, else the defaults.</summary>
    public ToolPolicy PolicyFor(string name) =>
        Options.Policies.TryGetValue(name, out var configured) ? configured
        : _attributePolicies.TryGetValue(name, out var declared) ? declared
        : new ToolPolicy();

    /// <summary>Gets the declarations in registration order.</summary>
    public IReadOnlyList<FunctionToolSpec> Specs { get; }

    /// <summary>Builds the registry from the registrations.</summary>
    /// <exception cref="InvalidOperationException">A registration is invalid; the message names every offending method.</exception>
    public static ToolRegistry Build(IEnumerable<ToolSource> sources, ToolOptions options)
    {
        var builder = new ToolRegistryBuilder(options);
        foreach (ToolSource source in sources)
        {
            source.AddTo(builder);
        }

        return builder.Build();
    }

    public bool TryGet(string name, [NotNullWhen(true)] out ToolDescriptor? tool) => _byName.TryGetValue(name, out tool);

    /// <summary>Gets the declarations of the named tools, in the order given, without duplicates.</summary>
    /// <exception cref="ArgumentException">A name is not registered.</exception>
    public IReadOnlyList<FunctionToolSpec> GetSpecs(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var specs = new List<FunctionToolSpec>();
        List<string>? unknown = null;
        foreach (string name in names)
        {
            if (!seen.Add(name))
            {
                continue;
            }

            if (_byName.TryGetValue(name, out ToolDescriptor? tool))
            {
                specs.Add(tool.Spec);
            }
            else
            {
                (unknown ??= []).Add(name);
            }
        }

        return unknown is null
            ? specs
            : throw new ArgumentException(
                $"No tool is registered as {string.Join(", ", unknown.Select(n => $"'{n}'"))}. Registered tools: {DescribeNames()}.",
                nameof(names));
    }

    /// <summary>Lists the registered tool names for messages.</summary>
    public string DescribeNames() => Tools.Count == 0 ? "(none)" : string.Join(", ", Tools.Select(t => t.Name));
}
