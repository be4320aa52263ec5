using Assistants.Kit.Configuration.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tests.Configuration;

public sealed class OptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void AddAssistantsKit_Configuration_BindsEveryGroup()
    {
        var config = Config(
            ("AssistantsKit:Endpoint", "http://127.0.0.1:5555/v1"),
            ("AssistantsKit:ApiKey", "sk-from-config"),
            ("AssistantsKit:Protocol", "Assistants"),
            ("AssistantsKit:DefaultModel", "gpt-4o-mini"),
            ("AssistantsKit:QueryParameters:api-version", "2025-05-15-preview"),
            ("AssistantsKit:Assistant:Name", "order-support"),
            ("AssistantsKit:Assistant:Instructions", "Be brief."),
            ("AssistantsKit:Assistant:Tools:0", "get_order_status"),
            ("AssistantsKit:Assistant:Metadata:team", "support"),
            ("AssistantsKit:Polling:InitialDelay", "00:00:00.5"),
            ("AssistantsKit:Polling:Timeout", "00:02:00"),
            ("AssistantsKit:RunDefaults:MaxCompletionTokens", "512"),
            ("AssistantsKit:RunDefaults:TruncationLastMessages", "20"),
            ("AssistantsKit:Http:MaxRetryAttempts", "5"),
            ("AssistantsKit:FailedRunRetry:MaxAttempts", "2"));
        var services = new ServiceCollection();
        services.AddAssistantsKit(config);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:5555/v1"), options.Endpoint);
        Assert.Equal("sk-from-config", options.ApiKey);
        Assert.Equal("gpt-4o-mini", options.DefaultModel);
        Assert.Equal("2025-05-15-preview", options.QueryParameters["api-version"]);
        Assert.Equal("order-support", options.Assistant.Name);
        Assert.Equal("Be brief.", options.Assistant.Instructions);
        Assert.Equal(["get_order_status"], options.Assistant.Tools);
        Assert.Equal("support", options.Assistant.Metadata["team"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Polling.InitialDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Polling.Timeout);
        Assert.Equal(512, options.RunDefaults.MaxCompletionTokens);
        Assert.Equal(20, options.RunDefaults.TruncationLastMessages);
        Assert.Equal(5, options.Http.MaxRetryAttempts);
        Assert.Equal(2, options.FailedRunRetry.MaxAttempts);
    }

    [Fact]
    public void AddAssistantsKit_CustomSectionName_Binds()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit(Config(("Agents:Endpoint", "http://127.0.0.1:1/v1"), ("Agents:DefaultModel", "m")), "Agents");
        using var provider = services.BuildServiceProvider();
        Assert.Equal("m", provider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.DefaultModel);
    }

    [Fact]
    public void Hostless_FirstResolve_ThrowsNamingTheBadValues()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit(o =>
        {
            o.Endpoint = new Uri("http://127.0.0.1:1/v1");
            o.Polling.Jitter = 1.5;
            o.RunDefaults.MaxPromptTokens = 100;
            o.Assistant.Temperature = 3;
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<AssistantRunner>());

        Assert.Contains("AssistantsKit:Polling:Jitter must be in [0, 1) (was 1.5)", ex.Message);
        Assert.Contains("AssistantsKit:RunDefaults:MaxPromptTokens must be at least 256, the server's minimum (was 100)", ex.Message);
        Assert.Contains("AssistantsKit:Assistant:Temperature must be between 0 and 2 (was 3)", ex.Message);
    }

    [Fact]
    public async Task Host_Start_FailsOnInvalidOptions()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAssistantsKit(o =>
        {
            o.Endpoint = new Uri("ftp://example.invalid/v1");
            o.Http.AttemptTimeout = TimeSpan.FromMinutes(5);
            o.Http.TotalRequestTimeout = TimeSpan.FromMinutes(1);
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("AssistantsKit:Endpoint must be an absolute http or https URI including /v1 (was 'ftp://example.invalid/v1')", ex.Message);
        Assert.Contains("AssistantsKit:Http:AttemptTimeout (00:05:00) must not exceed TotalRequestTimeout (00:01:00)", ex.Message);
    }

    [Fact]
    public void PublicEndpoint_WithoutKey_IsRejected_ButKeylessServerIsFine()
    {
        var validator = new AssistantsKitOptionsValidator();
        var publicEndpoint = validator.Validate(null, new AssistantsKitOptions());
        Assert.True(publicEndpoint.Failed);
        Assert.Contains("AssistantsKit:ApiKey is required for OpenAI's public endpoint", publicEndpoint.FailureMessage);

        Assert.True(validator.Validate(null, new AssistantsKitOptions { Endpoint = new Uri("http://127.0.0.1:8080/v1") }).Succeeded);
        Assert.True(validator.Validate(null, new AssistantsKitOptions { TokenProvider = _ => ValueTask.FromResult("t") }).Succeeded);
    }

    [Fact]
    public void Validator_RejectsEachBadValue_WithItsName()
    {
        var options = new AssistantsKitOptions { Endpoint = new Uri("http://127.0.0.1/v1"), DefaultModel = " ", CancelRunTimeout = TimeSpan.Zero };
        options.Polling.BackoffFactor = 0.5;
        options.Polling.MaxDelay = TimeSpan.FromMilliseconds(10);
        options.Polling.Timeout = TimeSpan.Zero;
        options.Polling.PollsPerExpectedWindow = 0;
        options.RunDefaults.MaxCompletionTokens = 0;
        options.RunDefaults.TruncationLastMessages = 0;
        options.Http.MaxRetryAttempts = 11;
        options.Http.NetworkTimeout = TimeSpan.Zero;
        options.FailedRunRetry.MaxAttempts = -1;
        options.Assistant.ReasoningEffort = "extreme";
        options.Assistant.ResponseFormat = "yaml";
        options.Assistant.TopP = 2;
        options.Assistant.Name = "";
        options.QueryParameters[" "] = "x";

        var message = new AssistantsKitOptionsValidator().Validate(null, options).FailureMessage;

        string[] expected =
        [
            "AssistantsKit:DefaultModel must not be empty",
            "AssistantsKit:CancelRunTimeout must be positive (was 00:00:00)",
            "AssistantsKit:Polling:BackoffFactor must be between 1 and 10 (was 0.5)",
            "AssistantsKit:Polling:MaxDelay must be at least MinDelay 00:00:00.1000000 (was 00:00:00.0100000)",
            "AssistantsKit:Polling:Timeout must be positive (was 00:00:00)",
            "AssistantsKit:Polling:PollsPerExpectedWindow must be at least 1 (was 0)",
            "AssistantsKit:RunDefaults:MaxCompletionTokens must be at least 1 (was 0)",
            "AssistantsKit:RunDefaults:TruncationLastMessages must be at least 1 (was 0)",
            "AssistantsKit:Http:MaxRetryAttempts must be between 0 and 10 (was 11)",
            "AssistantsKit:Http:NetworkTimeout must be positive (was 00:00:00)",
            "AssistantsKit:FailedRunRetry:MaxAttempts must be between 0 and 10 (was -1)",
            "AssistantsKit:Assistant:ReasoningEffort must be one of minimal, low, medium, high (was 'extreme')",
            "AssistantsKit:Assistant:ResponseFormat must be one of auto, text, json_object (was 'yaml')",
            "AssistantsKit:Assistant:TopP must be between 0 and 1 (was 2)",
            "AssistantsKit:Assistant:Name must be 1 to 256 characters (was '')",
            "AssistantsKit:QueryParameters has an empty parameter name (was ' ')",
        ];
        Assert.All(expected, e => Assert.Contains(e, message));
    }

    [Fact]
    public void ToString_NeverShowsTheKey()
    {
        var options = new AssistantsKitOptions { ApiKey = "sk-live-SECRET-123456" };
        Assert.DoesNotContain("SECRET", options.ToString());
        Assert.Contains("ApiKey=***", options.ToString());
    }
}

[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;

[Collection(nameof(EnvironmentCollection))]
public sealed class EnvironmentFallbackTests
{
    [Fact]
    public void OptionsWithoutKeyOrEndpoint_FallBackToOpenAIEnvironmentVariables()
    {
        var oldKey = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        var oldUrl = Environment.GetEnvironmentVariable("OPENAI_BASE_URL");
        try
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", "sk-env-key");
            Environment.SetEnvironmentVariable("OPENAI_BASE_URL", "http://127.0.0.1:7777/v1");
            var services = new ServiceCollection();
            services.AddAssistantsKit();
            services.AddAssistantsKit(o => o.DefaultModel = "from-code");
            using var provider = services.BuildServiceProvider();
            var options = provider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value;

            Assert.Equal("sk-env-key", options.ApiKey);
            Assert.Equal(new Uri("http://127.0.0.1:7777/v1"), options.Endpoint);
            Assert.Equal("from-code", options.DefaultModel);

            var explicitOptions = new AssistantsKitOptions { ApiKey = "sk-code", Endpoint = new Uri("http://127.0.0.1:1/v1") };
            new AssistantsKitEnvironmentFallback().PostConfigure(null, explicitOptions);
            Assert.Equal("sk-code", explicitOptions.ApiKey);
            Assert.Equal(new Uri("http://127.0.0.1:1/v1"), explicitOptions.Endpoint);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", oldKey);
            Environment.SetEnvironmentVariable("OPENAI_BASE_URL", oldUrl);
        }
    }
}
