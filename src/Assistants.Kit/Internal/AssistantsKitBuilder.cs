using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Internal;

internal sealed class AssistantsKitBuilder(IServiceCollection services) : IAssistantsKitBuilder
{
    public IServiceCollection Services { get; } = services;
}
