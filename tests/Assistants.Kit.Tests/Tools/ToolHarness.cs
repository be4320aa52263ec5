using System.Text.Json;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Tools;

/// <summary>A service provider with the kit's tools registered, and helpers to run calls as the run engine does.</summary>
internal sealed class ToolHarness : IAsyncDisposable
{
    private int _nextCallId;

    private ToolHarness(ServiceProvider provider, FakeTimeProvider? time)
    {
        Provider = provider;
        Time = time;
        Executor = provider.GetRequiredService<IToolCallExecutor>();
    }

    public ServiceProvider Provider { get; }

    public FakeTimeProvider? Time { get; }

    public IToolCallExecutor Executor { get; }

    public static ToolHarness Create(
        Action<IAssistantsKitBuilder> configure,
        Action<IServiceCollection>? services = null,
        FakeTimeProvider? time = null)
    {
        var collection = new ServiceCollection();
        if (time is not null)
        {
            collection.AddSingleton<TimeProvider>(time);
        }

        services?.Invoke(collection);
        configure(collection.AddAssistantsKit());
        return new ToolHarness(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true }), time);
    }

    public static ToolExecutionScope ScopeFor(IServiceProvider services, string runId = "run_1") =>
        new("conversation-1", "thread_1", runId, services);

    public ToolCallRequest Request(string name, string argumentsJson) =>
        new($"call_{Interlocked.Increment(ref _nextCallId)}", name, argumentsJson);

    public FunctionToolSpec Spec(string name) => Executor.Tools.Single(t => t.Name == name);

    public string Schema(string name) => Spec(name).ParametersSchema.GetRawText();

    /// <summary>Runs one call in a fresh scope.</summary>
    public async Task<ToolCallRecord> CallAsync(string name, string argumentsJson, CancellationToken cancellationToken = default)
    {
        await using AsyncServiceScope scope = Provider.CreateAsyncScope();
        return await CallAsync(scope.ServiceProvider, name, argumentsJson, cancellationToken);
    }

    /// <summary>Runs one call in the given scope.</summary>
    public async Task<ToolCallRecord> CallAsync(IServiceProvider services, string name, string argumentsJson, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ToolCallRecord> records = await Executor.ExecuteAsync([Request(name, argumentsJson)], ScopeFor(services), cancellationToken);
        return Assert.Single(records);
    }

    public async ValueTask DisposeAsync() => await Provider.DisposeAsync();

    /// <summary>Reads an error output: (type, message, exception_type).</summary>
    public static (string Type, string Message, string? ExceptionType) ReadError(string output)
    {
        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement error = document.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        return (
            error.GetProperty("type").GetString()!,
            error.GetProperty("message").GetString()!,
            error.TryGetProperty("exception_type", out JsonElement type) ? type.GetString() : null);
    }
}
