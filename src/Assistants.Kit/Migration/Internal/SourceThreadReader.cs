using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using OpenAI.Assistants;

namespace Assistants.Kit.Migration.Internal;

/// <summary>
/// Reads a thread from the Assistants-protocol source through the official <see cref="AssistantClient"/>'s protocol
/// methods (raw JSON, so content parts the typed model does not know are seen and reported, not dropped). Reads only.
/// </summary>
internal sealed class SourceThreadReader
{
    private const int PageSize = 100;
    private readonly MigrationClients _clients;

    public SourceThreadReader(MigrationClients clients)
    {
        _clients = clients;
    }

    private AssistantClient Client => _clients.Source;

    /// <summary>Gets the thread, or <see langword="null"/> when the source does not know it.</summary>
    public Task<JsonObject?> GetThreadAsync(string threadId, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            try
            {
                var result = await Client.GetThreadAsync(threadId, Options(cancellationToken)).ConfigureAwait(false);
                return Parse(result);
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>Gets the thread's newest run, if any.</summary>
    public Task<JsonObject?> GetNewestRunAsync(string threadId, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await foreach (var page in Client.GetRunsAsync(threadId, 1, "desc", after: null, before: null, Options(cancellationToken))
                .GetRawPagesAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                return Data(page).FirstOrDefault();
            }

            return null;
        }, cancellationToken);

    /// <summary>Lists the thread's messages oldest first, after <paramref name="afterMessageId"/> (all when <see langword="null"/>).</summary>
    /// <exception cref="MigrationConflictException">The thread does not exist on the source.</exception>
    public Task<List<JsonObject>> ListMessagesAsync(string threadId, string? afterMessageId, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var messages = new List<JsonObject>();
            try
            {
                await foreach (var page in Client.GetMessagesAsync(threadId, PageSize, "asc", afterMessageId, before: null, Options(cancellationToken))
                    .GetRawPagesAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    messages.AddRange(Data(page));
                }
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                throw new MigrationConflictException($"Thread {threadId} does not exist on the source.");
            }

            return messages;
        }, cancellationToken);

    /// <summary>Lists a run's steps, oldest first.</summary>
    public Task<List<JsonObject>> ListRunStepsAsync(string threadId, string runId, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var steps = new List<JsonObject>();
            try
            {
                await foreach (var page in Client.GetRunStepsAsync(threadId, runId, PageSize, "asc", after: null, before: null, Options(cancellationToken))
                    .GetRawPagesAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    steps.AddRange(Data(page));
                }
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                // The run is gone (threads may be pruned): nothing to report for it.
            }

            return steps;
        }, cancellationToken);

    private async Task<T> GuardAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (MigrationRemoteException.IsRemote(ex, cancellationToken))
        {
            throw MigrationRemoteException.From(MigrationEndpoint.Source, ex, _clients.SourceApiKey, _clients.TargetApiKey);
        }
    }

    private static IEnumerable<JsonObject> Data(ClientResult page) =>
        (Parse(page)["data"] as JsonArray ?? []).OfType<JsonObject>();

    private static JsonObject Parse(ClientResult result) => JsonNode.Parse(result.GetRawResponse().Content)!.AsObject();

    private static RequestOptions Options(CancellationToken cancellationToken) => new() { CancellationToken = cancellationToken };
}
