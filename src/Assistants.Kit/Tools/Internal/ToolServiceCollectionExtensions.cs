using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tools.Internal;

/// <summary>Registers the tool services the run engine uses; safe to call any number of times.</summary>
internal static class ToolServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ToolOptions"/> (validated on start, tool registrations included), the
    /// <see cref="ToolRegistry"/> and <see cref="IToolCallExecutor"/> as singletons. Call it from the kit's own registration
    /// so that a kit without tools still has an executor (with no tools).
    /// </summary>
    public static IServiceCollection AddAssistantsKitTools(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ToolRegistryFactory)))
        {
            return services;
        }

        _ = services.AddOptions<ToolOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ToolOptions>, ToolOptionsValidator>());
        services.TryAddSingleton<ToolRegistryFactory>();

        // IOptionsMonitor, not IOptions: ValidateOnStart validates the monitor's instance, so the registry built while
        // validating it is the one reused here.
        services.TryAddSingleton(sp => sp.GetRequiredService<ToolRegistryFactory>()
            .GetOrBuild(sp.GetRequiredService<IOptionsMonitor<ToolOptions>>().CurrentValue));
        services.TryAddSingleton<IToolCallExecutor>(sp => new ToolCallExecutor(
            sp.GetRequiredService<ToolRegistry>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger<ToolCallExecutor>() ?? NullLogger<ToolCallExecutor>.Instance));
        return services;
    }
}
