using System.ClientModel.Primitives;
using System.Text;

namespace Assistants.Kit.Http.Internal;

/// <summary>Sends a bearer token obtained from the app's token provider on every request.</summary>
internal sealed class TokenProviderAuthenticationPolicy : AuthenticationPolicy
{
    private readonly Func<CancellationToken, ValueTask<string>> _tokenProvider;

    public TokenProviderAuthenticationPolicy(Func<CancellationToken, ValueTask<string>> tokenProvider)
    {
        _tokenProvider = tokenProvider;
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        var token = _tokenProvider(message.CancellationToken).AsTask().GetAwaiter().GetResult();
        SetToken(message, token);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        var token = await _tokenProvider(message.CancellationToken).ConfigureAwait(false);
        SetToken(message, token);
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
    }

    private static void SetToken(PipelineMessage message, string token)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new InvalidOperationException("The AssistantsKit TokenProvider returned an empty token.");
        }

        message.Request.Headers.Set("Authorization", "Bearer " + token);
    }
}

/// <summary>Adds fixed query parameters (e.g. <c>api-version</c>) to every request.</summary>
internal sealed class QueryParametersPolicy : PipelinePolicy
{
    private readonly KeyValuePair<string, string>[] _parameters;

    public QueryParametersPolicy(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        _parameters = [.. parameters];
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    private void Apply(PipelineMessage message)
    {
        if (message.Request.Uri is not { } uri || _parameters.Length == 0)
        {
            return;
        }

        var query = new StringBuilder(uri.Query.TrimStart('?'));
        foreach (var (name, value) in _parameters)
        {
            var encodedName = Uri.EscapeDataString(name);
            if (query.ToString().Split('&').Any(p => p.StartsWith(encodedName + "=", StringComparison.Ordinal)))
            {
                continue;
            }

            if (query.Length > 0)
            {
                query.Append('&');
            }

            query.Append(encodedName).Append('=').Append(Uri.EscapeDataString(value));
        }

        message.Request.Uri = new UriBuilder(uri) { Query = query.ToString() }.Uri;
    }
}
