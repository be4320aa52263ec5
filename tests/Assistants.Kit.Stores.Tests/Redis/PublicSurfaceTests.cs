using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>The Redis store's public surface exposes no [Experimental] OpenAI type (no server needed).</summary>
public sealed class PublicSurfaceTests
{
    [Fact]
    public void NoExperimentalOpenAIType_InTheRedisPublicSurface()
    {
        var assembly = typeof(RedisStoreOptions).Assembly;
        Assert.NotEmpty(assembly.GetExportedTypes());

        var leaks = ExperimentalSurface.OpenAITypesIn(assembly);

        Assert.True(leaks.Count == 0, "Experimental OpenAI types in the public surface of " + assembly.GetName().Name + ":\n" + string.Join("\n", leaks));
    }
}
