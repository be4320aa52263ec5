using System.Globalization;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Configuration.Internal;

/// <summary>Falls back to <c>OPENAI_API_KEY</c> and <c>OPENAI_BASE_URL</c> when the options set no key or endpoint.</summary>
internal sealed class AssistantsKitEnvironmentFallback : IPostConfigureOptions<AssistantsKitOptions>
{
    public void PostConfigure(string? name, AssistantsKitOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ApiKey) && Environment.GetEnvironmentVariable("OPENAI_API_KEY") is { Length: > 0 } key)
        {
            options.ApiKey = key;
        }

        if (options.Endpoint is null && Environment.GetEnvironmentVariable("OPENAI_BASE_URL") is { Length: > 0 } url)
        {
            options.Endpoint = new Uri(url, UriKind.RelativeOrAbsolute);
        }
    }
}

/// <summary>Validates <see cref="AssistantsKitOptions"/>; every message names the setting and the value it had.</summary>
internal sealed class AssistantsKitOptionsValidator : IValidateOptions<AssistantsKitOptions>
{
    private static readonly string[] ReasoningEfforts = ["minimal", "low", "medium", "high"];
    private static readonly string[] ResponseFormats = ["auto", "text", "json_object"];

    public ValidateOptionsResult Validate(string? name, AssistantsKitOptions options)
    {
        var errors = new List<string>();
        const string P = AssistantsKitOptions.DefaultSectionName;

        if (options.Endpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{P}:Endpoint must be an absolute http or https URI including /v1 (was '{endpoint.OriginalString}').");
        }

        var usesPublicEndpoint = options.Endpoint is null || (options.Endpoint.IsAbsoluteUri && options.Endpoint.Host == AssistantsKitOptions.OpenAIEndpoint.Host);
        if (usesPublicEndpoint && string.IsNullOrWhiteSpace(options.ApiKey) && options.TokenProvider is null)
        {
            errors.Add($"{P}:ApiKey is required for OpenAI's public endpoint {AssistantsKitOptions.OpenAIEndpoint} (set it, or the OPENAI_API_KEY environment variable, or {P}:Endpoint for a keyless server).");
        }

        if (string.IsNullOrWhiteSpace(options.DefaultModel))
        {
            errors.Add($"{P}:DefaultModel must not be empty (was '{options.DefaultModel}').");
        }

        foreach (var key in options.QueryParameters.Keys.Where(string.IsNullOrWhiteSpace))
        {
            errors.Add($"{P}:QueryParameters has an empty parameter name (was '{key}').");
        }

        if (!Enum.IsDefined(options.Protocol))
        {
            errors.Add($"{P}:Protocol must be Assistants or Responses (was '{options.Protocol}').");
        }
        else if (options.Protocol == AssistantsProtocol.Responses && options.RunDefaults.TruncationLastMessages is { } last)
        {
            errors.Add($"{P}:RunDefaults:TruncationLastMessages ({last}) has no equivalent in the Responses protocol; remove it (Responses keeps the whole conversation and fails a response that exceeds the model's context).");
        }

        ValidateAssistant(options.Assistant, $"{P}:Assistant", errors);
        ValidatePolling(options.Polling, $"{P}:Polling", errors);
        ValidateRunDefaults(options.RunDefaults, $"{P}:RunDefaults", errors);
        ValidateHttp(options.Http, $"{P}:Http", errors);

        if (options.FailedRunRetry.MaxAttempts is < 0 or > 10)
        {
            errors.Add($"{P}:FailedRunRetry:MaxAttempts must be between 0 and 10 (was {options.FailedRunRetry.MaxAttempts}).");
        }

        if (options.FailedRunRetry.Delay < TimeSpan.Zero)
        {
            errors.Add($"{P}:FailedRunRetry:Delay must not be negative (was {options.FailedRunRetry.Delay}).");
        }

        if (options.Rollover.MessageThreshold < 2)
        {
            errors.Add($"{P}:Rollover:MessageThreshold must be at least 2 (was {options.Rollover.MessageThreshold}).");
        }

        if (options.Rollover.ContextWindowTokens is < 256)
        {
            errors.Add($"{P}:Rollover:ContextWindowTokens must be at least 256 when set (was {options.Rollover.ContextWindowTokens}).");
        }

        if (double.IsNaN(options.Rollover.PromptTokenThreshold) || options.Rollover.PromptTokenThreshold <= 0 || options.Rollover.PromptTokenThreshold > 1)
        {
            errors.Add($"{P}:Rollover:PromptTokenThreshold must be in (0, 1] (was {options.Rollover.PromptTokenThreshold.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (options.CancelRunTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{P}:CancelRunTimeout must be positive (was {options.CancelRunTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static void ValidateAssistant(AssistantDefinition? definition, string prefix, List<string> errors)
    {
        if (definition is null)
        {
            errors.Add($"{prefix} must not be null.");
            return;
        }

        if (string.IsNullOrWhiteSpace(definition.Name) || definition.Name.Length > 256)
        {
            errors.Add($"{prefix}:Name must be 1 to 256 characters (was '{definition.Name}').");
        }

        if (definition.Temperature is { } t && (t < 0 || t > 2))
        {
            errors.Add($"{prefix}:Temperature must be between 0 and 2 (was {t.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (definition.TopP is { } p && (p < 0 || p > 1))
        {
            errors.Add($"{prefix}:TopP must be between 0 and 1 (was {p.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (definition.ReasoningEffort is { } effort && !ReasoningEfforts.Contains(effort, StringComparer.Ordinal))
        {
            errors.Add($"{prefix}:ReasoningEffort must be one of {string.Join(", ", ReasoningEfforts)} (was '{effort}').");
        }

        if (definition.ResponseFormat is { } format && !ResponseFormats.Contains(format, StringComparer.Ordinal))
        {
            errors.Add($"{prefix}:ResponseFormat must be one of {string.Join(", ", ResponseFormats)} (was '{format}').");
        }

        if (definition.Instructions is { Length: > 256_000 })
        {
            errors.Add($"{prefix}:Instructions must be at most 256,000 characters (was {definition.Instructions.Length}).");
        }
    }

    private static void ValidatePolling(RunPollingOptions polling, string prefix, List<string> errors)
    {
        NonNegative(polling.InitialDelay, $"{prefix}:InitialDelay", errors);
        NonNegative(polling.MinDelay, $"{prefix}:MinDelay", errors);
        NonNegative(polling.MaxColdDelay, $"{prefix}:MaxColdDelay", errors);
        NonNegative(polling.MaxDelayNearExpectedFinish, $"{prefix}:MaxDelayNearExpectedFinish", errors);
        if (polling.MaxDelay < polling.MinDelay)
        {
            errors.Add($"{prefix}:MaxDelay must be at least MinDelay {polling.MinDelay} (was {polling.MaxDelay}).");
        }

        if (double.IsNaN(polling.BackoffFactor) || polling.BackoffFactor < 1 || polling.BackoffFactor > 10)
        {
            errors.Add($"{prefix}:BackoffFactor must be between 1 and 10 (was {polling.BackoffFactor.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (double.IsNaN(polling.Jitter) || polling.Jitter < 0 || polling.Jitter >= 1)
        {
            errors.Add($"{prefix}:Jitter must be in [0, 1) (was {polling.Jitter.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (polling.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{prefix}:Timeout must be positive (was {polling.Timeout}).");
        }

        if (polling.MinObservationsForAdaptation < 1)
        {
            errors.Add($"{prefix}:MinObservationsForAdaptation must be at least 1 (was {polling.MinObservationsForAdaptation}).");
        }

        if (polling.PollsPerExpectedWindow < 1)
        {
            errors.Add($"{prefix}:PollsPerExpectedWindow must be at least 1 (was {polling.PollsPerExpectedWindow}).");
        }
    }

    private static void ValidateRunDefaults(RunDefaultsOptions defaults, string prefix, List<string> errors)
    {
        if (defaults.MaxCompletionTokens is < 1)
        {
            errors.Add($"{prefix}:MaxCompletionTokens must be at least 1 (was {defaults.MaxCompletionTokens}).");
        }

        if (defaults.MaxPromptTokens is < 256)
        {
            errors.Add($"{prefix}:MaxPromptTokens must be at least 256, the server's minimum (was {defaults.MaxPromptTokens}).");
        }

        if (defaults.TruncationLastMessages is < 1)
        {
            errors.Add($"{prefix}:TruncationLastMessages must be at least 1 (was {defaults.TruncationLastMessages}).");
        }
    }

    private static void ValidateHttp(HttpOptions http, string prefix, List<string> errors)
    {
        if (http.MaxRetryAttempts is < 0 or > 10)
        {
            errors.Add($"{prefix}:MaxRetryAttempts must be between 0 and 10 (was {http.MaxRetryAttempts}).");
        }

        Positive(http.RetryBaseDelay, $"{prefix}:RetryBaseDelay", errors);
        Positive(http.RetryMaxDelay, $"{prefix}:RetryMaxDelay", errors);
        Positive(http.AttemptTimeout, $"{prefix}:AttemptTimeout", errors);
        Positive(http.TotalRequestTimeout, $"{prefix}:TotalRequestTimeout", errors);
        Positive(http.NetworkTimeout, $"{prefix}:NetworkTimeout", errors);
        Positive(http.UploadTimeout, $"{prefix}:UploadTimeout", errors);
        if (http.AttemptTimeout > http.TotalRequestTimeout)
        {
            errors.Add($"{prefix}:AttemptTimeout ({http.AttemptTimeout}) must not exceed TotalRequestTimeout ({http.TotalRequestTimeout}).");
        }
    }

    private static void NonNegative(TimeSpan value, string name, List<string> errors)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"{name} must not be negative (was {value}).");
        }
    }

    private static void Positive(TimeSpan value, string name, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be positive (was {value}).");
        }
    }
}
