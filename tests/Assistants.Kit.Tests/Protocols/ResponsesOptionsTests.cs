using Assistants.Kit.Configuration.Internal;
using Assistants.Kit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// Choosing the protocol by configuration, and the two options without a Responses equivalent: a
/// <c>last_messages</c> truncation fails validation (or, per run, the call), <c>max_prompt_tokens</c> is ignored.
/// </summary>
public sealed class ResponsesOptionsTests
{
    private static readonly Uri LocalEndpoint = new("http://127.0.0.1:9/v1");

    [Fact]
    public void Validator_TruncationLastMessagesUnderResponses_FailsNamingTheSetting()
    {
        var options = new AssistantsKitOptions { Endpoint = LocalEndpoint, Protocol = AssistantsProtocol.Responses };
        options.RunDefaults.TruncationLastMessages = 20;

        var result = new AssistantsKitOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("AssistantsKit:RunDefaults:TruncationLastMessages (20) has no equivalent in the Responses protocol", result.FailureMessage, StringComparison.Ordinal);

        options.Protocol = AssistantsProtocol.Assistants;
        Assert.True(new AssistantsKitOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validator_MaxPromptTokensUnderResponses_Accepted()
    {
        var options = new AssistantsKitOptions { Endpoint = LocalEndpoint, Protocol = AssistantsProtocol.Responses };
        options.RunDefaults.MaxPromptTokens = 1_000;

        Assert.True(new AssistantsKitOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Startup_TruncationUnderResponsesFromConfiguration_FailsBeforeAnythingRuns()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAssistantsKit(Configuration(
            ("AssistantsKit:Endpoint", LocalEndpoint.ToString()),
            ("AssistantsKit:Protocol", "Responses"),
            ("AssistantsKit:RunDefaults:TruncationLastMessages", "12")));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<AssistantRunner>());

        Assert.Contains("TruncationLastMessages (12)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PerRunTruncation_OnResponses_RefusedBeforeAnythingIsSent()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Responses);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => k.Runner.RunAsync("truncated", "Hello.", new RunOptions { TruncationLastMessages = 5 }));

        Assert.Contains("TruncationLastMessages (5)", ex.Message, StringComparison.Ordinal);
        Assert.Empty(k.Requests.All);
    }

    [Fact]
    public async Task MaxPromptTokens_OnResponses_IgnoredNothingOnTheWire_AndTheRunWorks()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Responses, configure: o => o.RunDefaults.MaxPromptTokens = 300);
        k.Script.Default().Reply("Fine.");

        var first = await k.Runner.RunAsync("prompt-limit", "Hello.");
        var second = await k.Runner.RunAsync("prompt-limit", "Again.", new RunOptions { MaxPromptTokens = 256 });

        Assert.Equal(RunStatus.Completed, first.Status);
        Assert.Equal(RunStatus.Completed, second.Status);
        Assert.All(k.ResponseBodies(), body => Assert.DoesNotContain(body, p => p.Key.Contains("prompt", StringComparison.Ordinal) || p.Key.StartsWith("truncation", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Responses", "conv_")]
    [InlineData("responses", "conv_")]
    [InlineData("Assistants", "thread_")]
    public async Task Protocol_FromConfiguration_NoCodeChange(string value, string threadPrefix)
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAssistantsKit(Configuration(
            ("AssistantsKit:Endpoint", emulator.BaseUri.ToString()),
            ("AssistantsKit:Protocol", value)));
        await using var provider = services.BuildServiceProvider();

        var result = await provider.GetRequiredService<AssistantRunner>().RunAsync("configured", "Hello.");

        Assert.StartsWith(threadPrefix, result.ThreadId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Protocol_FromTheEnvironmentVariable_AssistantsKit__Protocol()
    {
        // A prefix of this test's own keeps the process-wide environment free of a bare AssistantsKit__Protocol.
        var prefix = "KITTEST_" + Guid.NewGuid().ToString("N") + "_";
        await using var emulator = await AssistantsEmulator.StartAsync();
        Environment.SetEnvironmentVariable(prefix + "AssistantsKit__Protocol", "Responses");
        Environment.SetEnvironmentVariable(prefix + "AssistantsKit__Endpoint", emulator.BaseUri.ToString());
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddAssistantsKit(configuration);
            await using var provider = services.BuildServiceProvider();

            Assert.Equal(AssistantsProtocol.Responses, provider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Protocol);
            var result = await provider.GetRequiredService<AssistantRunner>().RunAsync("environment", "Hello.");
            Assert.StartsWith("conv_", result.ThreadId, StringComparison.Ordinal);
            Assert.Equal(1, emulator.Requests.Count("POST", "/responses"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "AssistantsKit__Protocol", null);
            Environment.SetEnvironmentVariable(prefix + "AssistantsKit__Endpoint", null);
        }
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
