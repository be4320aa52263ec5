using System.Runtime.CompilerServices;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Builds the registry once per <see cref="ToolOptions"/> instance. The options validator and the singleton registry both
/// ask for it, so host start (<c>ValidateOnStart</c>) and a hostless first resolve surface the same errors, and the tools
/// are built once.
/// </summary>
internal sealed class ToolRegistryFactory(IEnumerable<ToolSource> sources)
{
    private readonly ToolSource[] _sources = [.. sources];
    private readonly ConditionalWeakTable<ToolOptions, ToolRegistry> _registries = [];

    /// <exception cref="InvalidOperationException">A registration is invalid; the message names every offending method.</exception>
    public ToolRegistry GetOrBuild(ToolOptions options) =>
        _registries.GetValue(options, o => ToolRegistry.Build(_sources, o));
}
