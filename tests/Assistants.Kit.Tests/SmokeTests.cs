using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void AddAssistantsKit_ReturnsBuilderOverSameServices()
    {
        var services = new ServiceCollection();
        var builder = services.AddAssistantsKit();
        Assert.Same(services, builder.Services);
    }
}
