using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tests.Tools;

/// <summary>Invalid registrations fail at startup, naming the method and the rule.</summary>
public sealed class ToolRegistrationValidationTests
{
    [Fact]
    public void FirstResolve_InvalidName_NamesMethodAndRule()
    {
        string message = ResolveFailure(kit => kit.AddTools<BadNameTools>());

        Assert.Contains("BadNameTools.Lookup(String)", message, StringComparison.Ordinal);
        Assert.Contains("'get order'", message, StringComparison.Ordinal);
        Assert.Contains("^[A-Za-z0-9_-]{1,64}$", message, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstResolve_NameLongerThan64_Fails()
    {
        string message = ResolveFailure(kit => kit.AddTool(new string('a', 65), () => "x"));

        Assert.Contains("delegate tool", message, StringComparison.Ordinal);
        Assert.Contains("is invalid", message, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstResolve_DuplicateNameAcrossClasses_NamesBothMethods()
    {
        string message = ResolveFailure(kit => kit.AddTools<OrderTools>().AddTools<LegacyOrderTools>());

        Assert.Contains("LegacyOrderTools.Status(String)", message, StringComparison.Ordinal);
        Assert.Contains("OrderTools.GetStatus(String)", message, StringComparison.Ordinal);
        Assert.Contains("'get_order_status' is already used", message, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstResolve_DuplicateNameWithAIFunction_Fails()
    {
        AIFunction function = AIFunctionFactory.Create(() => "x", "get_order_status");

        string message = ResolveFailure(kit => kit.AddTools<OrderTools>().AddTool(function));

        Assert.Contains("AIFunction 'get_order_status'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(RefTools), "RefTools.Update(ref Int32)", "'count' is passed by reference (ref)")]
    [InlineData(typeof(OutTools), "OutTools.TryGet(String, out String)", "'value' is passed by reference (out)")]
    [InlineData(typeof(GenericTools), "GenericTools.Echo<T>(T)", "open generic method")]
    [InlineData(typeof(PrivateTools), "PrivateTools.Hidden()", "not public")]
    [InlineData(typeof(StreamingTools), "StreamingTools.Stream()", "IAsyncEnumerable<String>")]
    [InlineData(typeof(DisposableTools), "DisposableTools.Get()", "is disposable")]
    [InlineData(typeof(NoTools), "NoTools", "no method marked [AssistantTool]")]
    public void FirstResolve_UnsupportedSignature_NamesMethod(Type toolClass, string method, string rule)
    {
        string message = ResolveFailure(kit => typeof(AssistantsKitToolsBuilderExtensions)
            .GetMethod(nameof(AssistantsKitToolsBuilderExtensions.AddTools), 1, [typeof(IAssistantsKitBuilder)])!
            .MakeGenericMethod(toolClass)
            .Invoke(null, [kit]));

        Assert.Contains($"{method}: ", message, StringComparison.Ordinal);
        Assert.Contains(rule, message, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstResolve_SeveralProblems_AllReportedAtOnce()
    {
        string message = ResolveFailure(kit => kit.AddTools<BadNameTools>().AddTools<RefTools>());

        Assert.Contains("BadNameTools.Lookup(String)", message, StringComparison.Ordinal);
        Assert.Contains("RefTools.Update(ref Int32)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_ValidateOnStart_SurfacesTheSameError()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAssistantsKit(o => o.Endpoint = new Uri("http://127.0.0.1:9/v1")).AddTools<BadNameTools>();
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("BadNameTools.Lookup(String)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_ValidRegistration_BuildsToolsOnceForValidationAndExecutor()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAssistantsKit(o => o.Endpoint = new Uri("http://127.0.0.1:9/v1")).AddTools<OrderTools>();
        using IHost host = builder.Build();

        await host.StartAsync();
        ToolRegistry validated = host.Services.GetRequiredService<ToolRegistryFactory>()
            .GetOrBuild(host.Services.GetRequiredService<IOptionsMonitor<ToolOptions>>().CurrentValue);

        Assert.Same(validated, host.Services.GetRequiredService<ToolRegistry>());
        Assert.Equal("get_order_status", Assert.Single(host.Services.GetRequiredService<IToolCallExecutor>().Tools).Name);
        await host.StopAsync();
    }

    [Theory]
    [InlineData(nameof(ToolOptions.MaxConcurrentCalls), "(was 0)")]
    [InlineData(nameof(ToolOptions.PerCallTimeout), "(was 00:00:00)")]
    [InlineData(nameof(ToolOptions.MaxOutputLength), "(was 0)")]
    [InlineData(nameof(ToolOptions.MaxToolRounds), "(was 0)")]
    [InlineData(nameof(ToolOptions.MaxIdenticalCalls), "(was 0)")]
    public void FirstResolve_InvalidOption_NamesPropertyAndValue(string property, string value)
    {
        string message = ResolveFailure(kit => kit.ConfigureTools(o =>
        {
            switch (property)
            {
                case nameof(ToolOptions.MaxConcurrentCalls): o.MaxConcurrentCalls = 0; break;
                case nameof(ToolOptions.PerCallTimeout): o.PerCallTimeout = TimeSpan.Zero; break;
                case nameof(ToolOptions.MaxOutputLength): o.MaxOutputLength = 0; break;
                case nameof(ToolOptions.MaxToolRounds): o.MaxToolRounds = 0; break;
                case nameof(ToolOptions.MaxIdenticalCalls): o.MaxIdenticalCalls = 0; break;
            }
        }));

        Assert.Contains(property, message, StringComparison.Ordinal);
        Assert.Contains(value, message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolOptions_Defaults()
    {
        var options = new ToolOptions();

        Assert.Equal(8, options.MaxConcurrentCalls);
        Assert.Equal(TimeSpan.FromSeconds(60), options.PerCallTimeout);
        Assert.Equal(32_768, options.MaxOutputLength);
        Assert.False(options.IncludeExceptionDetails);
        Assert.False(options.StrictSchemas);
        Assert.Equal(10, options.MaxToolRounds);
        Assert.Equal(3, options.MaxIdenticalCalls);
        Assert.Equal("""{"unitName":"Celsius"}""", System.Text.Json.JsonSerializer.Serialize(new { UnitName = TemperatureUnit.Celsius }, options.SerializerOptions));
    }

    [Fact]
    public void FirstResolve_NoTools_EmptyExecutor()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().ConfigureTools(_ => { });
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Empty(provider.GetRequiredService<IToolCallExecutor>().Tools);
    }

    private static string ResolveFailure(Action<IAssistantsKitBuilder> configure)
    {
        var services = new ServiceCollection();
        configure(services.AddAssistantsKit());
        using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IToolCallExecutor>()).Message;
    }

    public sealed class BadNameTools
    {
        [AssistantTool("get order")]
        public static string Lookup(string id) => id;
    }

    public sealed class OrderTools
    {
        [AssistantTool("get_order_status")]
        public static string GetStatus(string orderId) => orderId;
    }

    public sealed class LegacyOrderTools
    {
        [AssistantTool("get_order_status")]
        public static string Status(string orderId) => orderId;
    }

    public sealed class RefTools
    {
        [AssistantTool("update")]
        public static void Update(ref int count) => count++;
    }

    public sealed class OutTools
    {
        [AssistantTool("try_get")]
        public static bool TryGet(string key, out string value)
        {
            value = key;
            return true;
        }
    }

    public sealed class GenericTools
    {
        [AssistantTool("echo")]
        public static T Echo<T>(T value) => value;
    }

    public sealed class PrivateTools
    {
        [AssistantTool("hidden")]
        private static string Hidden() => "";

        public static string Visible() => Hidden();
    }

    public sealed class StreamingTools
    {
        [AssistantTool("stream")]
        public static async IAsyncEnumerable<string> Stream()
        {
            await Task.Yield();
            yield return "x";
        }
    }

    public sealed class DisposableTools : IDisposable
    {
        [AssistantTool("get")]
        public string Get() => "";

        public void Dispose()
        {
        }
    }

    public sealed class NoTools
    {
        public static string NotATool() => "";
    }
}
