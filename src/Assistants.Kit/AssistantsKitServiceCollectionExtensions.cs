using Assistants.Kit;
using Assistants.Kit.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Assistants.Kit in a service collection.</summary>
public static class AssistantsKitServiceCollectionExtensions
{
    /// <summary>Registers the kit with options from the environment only.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add tools, stores and other capabilities.</returns>
    public static IAssistantsKitBuilder AddAssistantsKit(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return new AssistantsKitBuilder(services);
    }
}
