using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit;

/// <summary>
/// Returned by <see cref="AssistantsKitServiceCollectionExtensions.AddAssistantsKit(IServiceCollection)"/>; each
/// capability of the kit (tools, stores, pricing, budgets…) adds its registration methods to it as extension methods.
/// </summary>
public interface IAssistantsKitBuilder
{
    /// <summary>Gets the service collection the kit is registered in.</summary>
    IServiceCollection Services { get; }
}
