using Assistants.Kit;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Configuration.Internal;
using Assistants.Kit.Conversations.Internal;
using Assistants.Kit.Definitions.Internal;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Runs.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Assistants.Kit in a service collection.</summary>
public static class AssistantsKitServiceCollectionExtensions
{
    /// <summary>
    /// Registers the kit with default options (key and endpoint from <c>OPENAI_API_KEY</c> / <c>OPENAI_BASE_URL</c>).
    /// Registering twice is safe.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add tools, stores and other capabilities.</returns>
    public static IAssistantsKitBuilder AddAssistantsKit(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCore(services);
        return new AssistantsKitBuilder(services);
    }

    /// <summary>Registers the kit and configures its options in code. Registering twice is safe (both configurations apply, in order).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder to add tools, stores and other capabilities.</returns>
    public static IAssistantsKitBuilder AddAssistantsKit(this IServiceCollection services, Action<AssistantsKitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services);
        services.Configure(configure);
        return new AssistantsKitBuilder(services);
    }

    /// <summary>Registers the kit with options bound from a configuration section (environment: <c>AssistantsKit__Protocol</c> etc.).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration (root, or any parent of the section).</param>
    /// <param name="sectionName">The section to bind; default <c>AssistantsKit</c>. An empty name binds <paramref name="configuration"/> itself.</param>
    /// <returns>A builder to add tools, stores and other capabilities.</returns>
    public static IAssistantsKitBuilder AddAssistantsKit(this IServiceCollection services, IConfiguration configuration, string sectionName = AssistantsKitOptions.DefaultSectionName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sectionName);
        AddCore(services);
        var section = sectionName.Length == 0 ? configuration : configuration.GetSection(sectionName);
        services.Configure<AssistantsKitOptions>(section);
        return new AssistantsKitBuilder(services);
    }

    private static void AddCore(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(AssistantsKitMarker)))
        {
            return;
        }

        services.AddSingleton<AssistantsKitMarker>();
        services.AddOptions<AssistantsKitOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<AssistantsKitOptions>, AssistantsKitEnvironmentFallback>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AssistantsKitOptions>, AssistantsKitOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        KitHttpClient.Register(services);
        services.AddAccountingCore();
        services.AddAssistantsKitTools();

        services.TryAddSingleton<OpenAIClientProvider>();
        services.TryAddSingleton(static sp => new WriteReconciler(
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Assistants.Kit.Reconciliation"),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<KitTelemetry>()));
        services.TryAddSingleton<IProtocolBackend>(static sp => sp.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Protocol switch
        {
            AssistantsProtocol.Responses => new ResponsesProtocolBackend(sp.GetRequiredService<OpenAIClientProvider>(), sp.GetRequiredService<WriteReconciler>(), sp.GetRequiredService<TimeProvider>()),
            _ => new AssistantsProtocolBackend(sp.GetRequiredService<OpenAIClientProvider>(), sp.GetRequiredService<WriteReconciler>()),
        });
        services.TryAddSingleton<IConversationStore>(static sp => new InMemoryConversationStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<RunDurationTracker>();
        services.TryAddSingleton(static sp => new KitTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<AssistantEnsurer>();
        services.TryAddSingleton<ConversationObservers>();
        services.TryAddSingleton<RunEngine>();
        services.TryAddSingleton(static sp => new AssistantRunner(sp.GetRequiredService<RunEngine>()));
    }

    private sealed class AssistantsKitMarker;
}
