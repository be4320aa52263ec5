using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Assistants.Kit;

/// <summary>Registration of <see cref="AssistantFiles"/> (files, vector stores, attachments and tool outputs).</summary>
public static class AssistantFilesKitBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="AssistantFiles"/> with its options bound from <see cref="AssistantFilesOptions.SectionName"/>
    /// (when configuration is registered) and validated on start, and the in-memory <see cref="IFileIngestionStore"/>
    /// unless one is registered (<c>AddSqliteStore</c> and <c>AddRedisStore</c> register theirs, before or after this).
    /// Calling it again only adds the configuration.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Sets the options in code (after the configuration binding).</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder AddFiles(this IAssistantsKitBuilder builder, Action<AssistantFilesOptions>? configure = null)
    {
        _ = Throw.IfNull(builder);
        var services = builder.Services;
        services.AddOptions<AssistantFilesOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<AssistantFilesOptions>, ConfigureFilesFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AssistantFilesOptions>, AssistantFilesOptionsValidator>());
        services.TryAddSingleton<IFileIngestionStore, InMemoryFileIngestionStore>();
        services.TryAddSingleton(static sp => new AssistantFiles(
            sp.GetRequiredService<OpenAIClientProvider>(),
            sp.GetRequiredService<IOptions<AssistantFilesOptions>>().Value,
            sp.GetRequiredService<IOptions<AssistantsKitOptions>>().Value,
            sp.GetRequiredService<IVectorStorageAccounting>(),
            sp.GetRequiredService<IConversationStore>(),
            sp.GetRequiredService<IFileIngestionStore>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<AssistantFiles>()));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return builder;
    }

    /// <summary>Binds <see cref="AssistantFilesOptions"/> from <see cref="AssistantFilesOptions.SectionName"/> when configuration is registered.</summary>
    private sealed class ConfigureFilesFromConfiguration(IServiceProvider services) : IConfigureOptions<AssistantFilesOptions>
    {
        public void Configure(AssistantFilesOptions options)
        {
            if (services.GetService<IConfiguration>() is { } configuration)
            {
                configuration.GetSection(AssistantFilesOptions.SectionName).Bind(options);
            }
        }
    }
}
