using Microsoft.Extensions.Options;

namespace Assistants.Kit.Migration.Internal;

/// <summary>Validates <see cref="ThreadMigratorOptions"/>; every message names the setting and the value it had.</summary>
internal sealed class ThreadMigratorOptionsValidator : IValidateOptions<ThreadMigratorOptions>
{
    public ValidateOptionsResult Validate(string? name, ThreadMigratorOptions options)
    {
        const string P = ThreadMigratorOptions.SectionName;
        var errors = new List<string>();
        if (options.Source.Endpoint is null)
        {
            errors.Add($"{P}:Source:Endpoint is required (was '(none)'): the source speaks the Assistants protocol, which OpenAI's public endpoint no longer serves; set the Assistants-compatible server's address including /v1.");
        }

        ValidateEndpoint(options.Source, $"{P}:Source", errors);
        ValidateEndpoint(options.Target, $"{P}:Target", errors);
        var targetIsPublic = options.Target.Endpoint is null || (options.Target.Endpoint.IsAbsoluteUri && options.Target.Endpoint.Host == AssistantsKitOptions.OpenAIEndpoint.Host);
        if (targetIsPublic && string.IsNullOrWhiteSpace(options.Target.ApiKey) && options.Target.TokenProvider is null)
        {
            errors.Add($"{P}:Target:ApiKey is required for OpenAI's public endpoint {AssistantsKitOptions.OpenAIEndpoint} (was '(none)'; or set {P}:Target:Endpoint for a keyless server).");
        }

        if (options.BatchSize is < 1 or > ThreadMigratorOptions.MaxBatchSize)
        {
            errors.Add($"{P}:BatchSize must be between 1 and {ThreadMigratorOptions.MaxBatchSize}, the most items the Conversations API takes per request (was {options.BatchSize}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateEndpoint(MigrationEndpointOptions endpoint, string prefix, List<string> errors)
    {
        if (endpoint.Endpoint is { } uri && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{prefix}:Endpoint must be an absolute http or https URI including /v1 (was '{uri.OriginalString}').");
        }

        foreach (var key in endpoint.QueryParameters.Keys.Where(string.IsNullOrWhiteSpace))
        {
            errors.Add($"{prefix}:QueryParameters has an empty parameter name (was '{key}').");
        }
    }
}
