using System.ComponentModel;
using System.Text.Json;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Tools;

/// <summary>Each registration route: a DI-scoped class, an instance, a delegate, an AIFunction.</summary>
public sealed class ToolRegistrationTests
{
    [Fact]
    public async Task AddToolsGeneric_ResolvesOneInstancePerRunScope_WithScopedDependencies()
    {
        await using var harness = ToolHarness.Create(
            kit => kit.AddTools<ScopedOrderTools>(),
            services => services.AddScoped<OrderRepository>());

        await using AsyncServiceScope runA = harness.Provider.CreateAsyncScope();
        await using AsyncServiceScope runB = harness.Provider.CreateAsyncScope();
        IReadOnlyList<ToolCallRecord> a = await harness.Executor.ExecuteAsync(
            [harness.Request("whoami", "{}"), harness.Request("whoami", "{}")], ToolHarness.ScopeFor(runA.ServiceProvider), CancellationToken.None);
        ToolCallRecord b = await harness.CallAsync(runB.ServiceProvider, "whoami", "{}");

        Assert.All(a, r => Assert.Equal(ToolCallStatus.Succeeded, r.Status));
        Assert.Equal(a[0].Output, a[1].Output); // one tool instance (and repository) for the calls of a run
        Assert.NotEqual(a[0].Output, b.Output); // another run, another scope, other instances
        Assert.Equal( // and they are the run scope's own instances
            $"{IdentityOf(runA.ServiceProvider.GetRequiredService<ScopedOrderTools>())}/{IdentityOf(runA.ServiceProvider.GetRequiredService<OrderRepository>())}",
            a[0].Output);
    }

    [Fact]
    public void AddToolsGeneric_RegistersTheClassScopedOnce()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddTools<ScopedOrderTools>().AddTools<ScopedOrderTools>();

        ServiceDescriptor descriptor = Assert.Single(services, d => d.ServiceType == typeof(ScopedOrderTools));
        Assert.Equal(ServiceLifetime.Scoped, descriptor.Lifetime);
        Assert.Single(services, d => d.ServiceType == typeof(ToolSource));
    }

    [Fact]
    public async Task AddToolsGeneric_KeepsAnExistingRegistration()
    {
        var shared = new ScopedOrderTools(new OrderRepository());
        await using var harness = ToolHarness.Create(
            kit => kit.AddTools<ScopedOrderTools>(),
            services => services.AddSingleton(shared));

        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();
        Assert.Same(shared, run.ServiceProvider.GetRequiredService<ScopedOrderTools>());
        Assert.Equal(ToolCallStatus.Succeeded, (await harness.CallAsync("whoami", "{}")).Status);
    }

    [Fact]
    public async Task AddToolsInstance_CallsTheGivenInstance()
    {
        var tools = new CountingTools();
        await using var harness = ToolHarness.Create(kit => kit.AddTools(tools).AddTools(tools));

        await harness.CallAsync("count", "{}");
        await harness.CallAsync("count", "{}");

        Assert.Equal(2, tools.Calls);
        Assert.Single(harness.Executor.Tools);
    }

    [Fact]
    public async Task AddToolDelegate_UsesNameAndDescription()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool(
            "get_time",
            ([Description("IANA zone")] string zone) => $"12:00 {zone}",
            "Gets the time in a zone."));

        FunctionToolSpec spec = harness.Spec("get_time");
        ToolCallRecord record = await harness.CallAsync("get_time", """{"zone":"Europe/Paris"}""");

        Assert.Equal("Gets the time in a zone.", spec.Description);
        Assert.Equal("""{"type":"object","properties":{"zone":{"description":"IANA zone","type":"string"}},"required":["zone"]}""", spec.ParametersSchema.GetRawText());
        Assert.Equal("12:00 Europe/Paris", record.Output);
    }

    [Fact]
    public async Task AddToolFunction_FromAIFunctionFactory_NameIsTheToolName()
    {
        AIFunction function = AIFunctionFactory.Create((int a, int b) => a + b, "add", "Adds two numbers.");
        await using var harness = ToolHarness.Create(kit => kit.AddTool(function));

        ToolCallRecord record = await harness.CallAsync("add", """{"a":2,"b":3}""");

        Assert.Equal("Adds two numbers.", harness.Spec("add").Description);
        Assert.Equal("5", record.Output);
    }

    [Fact]
    public async Task AddToolFunction_CustomFunction_ReceivesJsonServicesAndContext_StringResultUnquoted()
    {
        var function = new RemoteFunction();
        await using var harness = ToolHarness.Create(kit => kit.AddTool(function));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        ToolCallRecord ok = await harness.CallAsync(run.ServiceProvider, "remote_lookup", """{"id":"x-1"}""");
        ToolCallRecord missing = await harness.CallAsync(run.ServiceProvider, "remote_lookup", "{}");

        Assert.Equal("found x-1", ok.Output); // a JSON string result comes back unquoted
        Assert.Same(run.ServiceProvider, function.LastServices);
        Assert.Equal("remote_lookup", function.LastContext?.ToolName);
        Assert.Equal(ToolCallStatus.InvalidArguments, missing.Status);
        Assert.Equal("Missing required argument 'id'.", ToolHarness.ReadError(missing.Output).Message);
    }

    [Fact]
    public async Task AddToolsInterface_UsesTheRegisteredImplementation()
    {
        await using var harness = ToolHarness.Create(
            kit => kit.AddTools<IGreetingTools>(),
            services => services.AddScoped<IGreetingTools, GreetingTools>());

        Assert.Equal("hello Ada", (await harness.CallAsync("greet", """{"name":"Ada"}""")).Output);
    }

    [Fact]
    public async Task AddToolsInterface_DisposableImplementation_FailsTheCallNotTheRun()
    {
        // AIFunctionFactory would dispose the scope-owned instance after the call; the kit refuses instead.
        await using var harness = ToolHarness.Create(
            kit => kit.AddTools<IGreetingTools>().ConfigureTools(o => o.IncludeExceptionDetails = true),
            services => services.AddScoped<IGreetingTools, DisposableGreetingTools>());

        ToolCallRecord record = await harness.CallAsync("greet", """{"name":"Ada"}""");

        Assert.Equal(ToolCallStatus.HandlerException, record.Status);
        Assert.Contains("is disposable", ToolHarness.ReadError(record.Output).Message, StringComparison.Ordinal);
    }

    public interface IGreetingTools
    {
        [AssistantTool("greet")]
        string Greet(string name);
    }

    public sealed class GreetingTools : IGreetingTools
    {
        public string Greet(string name) => $"hello {name}";
    }

    public sealed class DisposableGreetingTools : IGreetingTools, IDisposable
    {
        public string Greet(string name) => $"hello {name}";

        public void Dispose()
        {
        }
    }

    public sealed class OrderRepository;

    public sealed class ScopedOrderTools(OrderRepository repository)
    {
        [AssistantTool("whoami")]
        public string WhoAmI() => $"{IdentityOf(this)}/{IdentityOf(repository)}";
    }

    public sealed class CountingTools
    {
        private int _calls;

        public int Calls => _calls;

        [AssistantTool("count")]
        public int Count() => Interlocked.Increment(ref _calls);
    }

    /// <summary>An AIFunction not built by AIFunctionFactory, like one an MCP client lists.</summary>
    private sealed class RemoteFunction : AIFunction
    {
        private static readonly JsonElement SchemaElement = JsonElement.Parse(
            """{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}""");

        public IServiceProvider? LastServices { get; private set; }

        public ToolCallContext? LastContext { get; private set; }

        public override string Name => "remote_lookup";

        public override string Description => "Looks something up remotely.";

        public override JsonElement JsonSchema => SchemaElement;

        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
        {
            LastServices = arguments.Services;
            LastContext = arguments.Context?[typeof(ToolCallContext)] as ToolCallContext;
            var id = (JsonElement)arguments["id"]!;
            return ValueTask.FromResult<object?>(JsonSerializer.SerializeToElement($"found {id.GetString()}"));
        }
    }

    private static int IdentityOf(object instance) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(instance);
}
