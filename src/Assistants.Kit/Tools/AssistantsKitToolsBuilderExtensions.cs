using Assistants.Kit.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Assistants.Kit;

/// <summary>Registers the tools the model can call. Registration is explicit; assemblies are never scanned.</summary>
/// <remarks>
/// The registrations are turned into tools once, over <see cref="AIFunctionFactory"/>, when the kit's services are first
/// resolved (or at host start: the check runs with <c>ValidateOnStart</c>). Any problem (an invalid or duplicate name, an
/// unsupported method signature) fails with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
/// whose message names the offending method and the rule.
/// </remarks>
public static class AssistantsKitToolsBuilderExtensions
{
    /// <summary>
    /// Registers the methods of <typeparamref name="T"/> marked with <see cref="AssistantToolAttribute"/> as tools.
    /// </summary>
    /// <typeparam name="T">The tool class.</typeparam>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// <para>
    /// <typeparamref name="T"/> is registered as a scoped service unless it is already registered; register it yourself
    /// first to choose another lifetime or an implementation (for an interface). Instance methods run on the instance
    /// resolved from the run's scope, so the calls of one run share one instance and its scoped dependencies; static
    /// methods are called directly. Calling this twice for the same type registers it once.
    /// </para>
    /// <para>
    /// A tool class must not implement <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>: AIFunctionFactory would
    /// dispose it after each call while the run's scope still owns it. Keep disposable resources in injected services.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IAssistantsKitBuilder AddTools<T>(this IAssistantsKitBuilder builder)
        where T : class
    {
        _ = Throw.IfNull(builder);
        IServiceCollection services = builder.Services.AddAssistantsKitTools();
        if (!services.Any(d => d.ServiceType == typeof(ToolSource) && d.ImplementationInstance is TypeToolSource { Type: var type } && type == typeof(T)))
        {
            services.AddSingleton<ToolSource>(new TypeToolSource(typeof(T)));
            if (!typeof(T).IsAbstract)
            {
                services.TryAddScoped<T>();
            }
        }

        return builder;
    }

    /// <summary>Registers the methods of <paramref name="instance"/> marked with <see cref="AssistantToolAttribute"/> as tools.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="instance">The object whose methods run; it is shared by every run, so it must be thread-safe.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>Registering the same instance twice registers it once.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="instance"/> is <see langword="null"/>.</exception>
    public static IAssistantsKitBuilder AddTools(this IAssistantsKitBuilder builder, object instance)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(instance);
        IServiceCollection services = builder.Services.AddAssistantsKitTools();
        if (!services.Any(d => d.ServiceType == typeof(ToolSource) && d.ImplementationInstance is InstanceToolSource source && ReferenceEquals(source.Instance, instance)))
        {
            services.AddSingleton<ToolSource>(new InstanceToolSource(instance));
        }

        return builder;
    }

    /// <summary>Registers a delegate as a tool.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="name">The tool name; it must match <c>^[A-Za-z0-9_-]{1,64}$</c> and be unique.</param>
    /// <param name="handler">
    /// The handler. Its parameters and return value follow the same rules as <see cref="AssistantToolAttribute"/> methods;
    /// describe them with <see cref="System.ComponentModel.DescriptionAttribute"/> (on a lambda's parameters too).
    /// </param>
    /// <param name="description">The description the model sees, or <see langword="null"/> to use the method's <see cref="System.ComponentModel.DescriptionAttribute"/>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/>, <paramref name="name"/> or <paramref name="handler"/> is <see langword="null"/>.</exception>
    public static IAssistantsKitBuilder AddTool(this IAssistantsKitBuilder builder, string name, Delegate handler, string? description = null)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(name);
        _ = Throw.IfNull(handler);
        _ = builder.Services.AddAssistantsKitTools().AddSingleton<ToolSource>(new DelegateToolSource(name, handler, description));
        return builder;
    }

    /// <summary>
    /// Registers any <see cref="AIFunction"/> as a tool (for example one listed by an MCP client), named
    /// <see cref="AITool.Name"/> and declared with its <see cref="AIFunctionDeclaration.JsonSchema"/>.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="function">The function.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// The function receives the arguments as <see cref="System.Text.Json.JsonElement"/> values, the run's scope as
    /// <see cref="AIFunctionArguments.Services"/>, and the <see cref="ToolCallContext"/> in
    /// <see cref="AIFunctionArguments.Context"/> under the key <c>typeof(ToolCallContext)</c>. Missing required arguments
    /// (per its schema) are reported to the model as <c>invalid_arguments</c>; anything the function throws is a
    /// <c>handler_exception</c>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    public static IAssistantsKitBuilder AddTool(this IAssistantsKitBuilder builder, AIFunction function)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(function);
        _ = builder.Services.AddAssistantsKitTools().AddSingleton<ToolSource>(new FunctionToolSource(function));
        return builder;
    }

    /// <summary>Configures how tools are executed and declared.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="configure">Changes the <see cref="ToolOptions"/>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static IAssistantsKitBuilder ConfigureTools(this IAssistantsKitBuilder builder, Action<ToolOptions> configure)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNull(configure);
        _ = builder.Services.AddAssistantsKitTools().Configure(configure);
        return builder;
    }

    /// <summary>Sets the policy of one tool (overrides what its <see cref="AssistantToolAttribute"/> declares).</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="name">The tool name.</param>
    /// <param name="configure">Configures the policy.</param>
    /// <returns>The same builder.</returns>
    public static IAssistantsKitBuilder ConfigureTool(this IAssistantsKitBuilder builder, string name, Action<ToolPolicy> configure)
    {
        _ = Throw.IfNull(builder);
        _ = Throw.IfNullOrWhiteSpace(name);
        _ = Throw.IfNull(configure);
        builder.Services.AddAssistantsKitTools().Configure<ToolOptions>(options =>
        {
            if (!options.Policies.TryGetValue(name, out var policy))
            {
                policy = new ToolPolicy();
                options.Policies[name] = policy;
            }

            configure(policy);
        });
        return builder;
    }
}
