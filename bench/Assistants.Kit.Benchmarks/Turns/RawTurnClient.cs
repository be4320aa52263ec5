using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI.Assistants;
using SdkRunStatus = OpenAI.Assistants.RunStatus;

namespace Assistants.Kit.Benchmarks.Turns;

/// <summary>
/// What an application writes by hand on the official client for one tool-calling turn: the protocol steps and nothing
/// else (no reconciliation, no accounting, no conversation store, no loop guard, no step log).
/// </summary>
/// <remarks>
/// Polled: POST message, POST run, GET run until it leaves queued/in_progress (no delay: the same schedule as the kit
/// with zero delays), on <c>requires_action</c> invoke the tool and POST the outputs, GET run until settled, GET the
/// messages after the user message (ascending, the run's assistant messages). Streamed: POST message, POST run with
/// <c>stream: true</c>, on <c>requires_action</c> invoke the tool and POST the outputs with <c>stream: true</c>, read
/// the text from the stream.
/// </remarks>
public sealed class RawTurnClient : IDisposable
{
    private static readonly JsonSerializerOptions ToolJson = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private static readonly BenchOrderTools Tools = new();

    public RawTurnClient(Uri endpoint, string assistantId, HttpMessageHandler? handler = null)
    {
        _http = new HttpClient(handler ?? TurnScript.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        AssistantId = assistantId;
        Client = new AssistantClient(
            new ApiKeyCredential(TurnScript.ApiKey),
            new AssistantClientOptions { Endpoint = endpoint, Transport = new HttpClientPipelineTransport(_http) });
    }

    public AssistantClient Client { get; }

    public string AssistantId { get; }

    public async Task<string> CreateThreadAsync(CancellationToken cancellationToken = default) =>
        (await Client.CreateThreadAsync(new ThreadCreationOptions(), cancellationToken).ConfigureAwait(false)).Value.Id;

    /// <summary>One polled turn; returns the assistant's reply text.</summary>
    public Task<string> PolledTurnAsync(string threadId, string message, CancellationToken cancellationToken = default) =>
        PolledTurnAsync(Client, AssistantId, threadId, message, cancellationToken);

    /// <summary>One streamed turn; returns the assistant's reply text as streamed.</summary>
    public Task<string> StreamedTurnAsync(string threadId, string message, CancellationToken cancellationToken = default) =>
        StreamedTurnAsync(Client, AssistantId, threadId, message, cancellationToken);

    /// <summary>One polled turn on <paramref name="client"/>; returns the assistant's reply text.</summary>
    public static async Task<string> PolledTurnAsync(AssistantClient client, string assistantId, string threadId, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ThreadMessage user = (await client.CreateMessageAsync(threadId, MessageRole.User, [MessageContent.FromText(message)], null, cancellationToken).ConfigureAwait(false)).Value;
        ThreadRun run = (await client.CreateRunAsync(threadId, assistantId, null, cancellationToken).ConfigureAwait(false)).Value;
        while (true)
        {
            while (run.Status == SdkRunStatus.Queued || run.Status == SdkRunStatus.InProgress || run.Status == SdkRunStatus.Cancelling)
            {
                run = (await client.GetRunAsync(threadId, run.Id, cancellationToken).ConfigureAwait(false)).Value;
            }

            if (run.Status != SdkRunStatus.RequiresAction)
            {
                break;
            }

            var outputs = new List<ToolOutput>(run.RequiredActions.Count);
            foreach (RequiredAction action in run.RequiredActions)
            {
                outputs.Add(new ToolOutput(action.ToolCallId, Invoke(action.FunctionName, action.FunctionArguments)));
            }

            run = (await client.SubmitToolOutputsToRunAsync(threadId, run.Id, outputs, cancellationToken).ConfigureAwait(false)).Value;
        }

        if (run.Status != SdkRunStatus.Completed)
        {
            throw new InvalidOperationException($"The run ended {run.Status}.");
        }

        var text = new StringBuilder();
        var options = new MessageCollectionOptions { Order = MessageCollectionOrder.Ascending, AfterId = user.Id, PageSizeLimit = 100 };
        await foreach (ThreadMessage reply in client.GetMessagesAsync(threadId, options, cancellationToken).ConfigureAwait(false))
        {
            if (reply.Role == MessageRole.Assistant && reply.RunId == run.Id)
            {
                foreach (MessageContent content in reply.Content)
                {
                    text.Append(content.Text);
                }
            }
        }

        return text.ToString();
    }

    /// <summary>One streamed turn on <paramref name="client"/>; returns the assistant's reply text as streamed.</summary>
    public static async Task<string> StreamedTurnAsync(AssistantClient client, string assistantId, string threadId, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        _ = await client.CreateMessageAsync(threadId, MessageRole.User, [MessageContent.FromText(message)], null, cancellationToken).ConfigureAwait(false);
        var text = new StringBuilder();
        AsyncStreamingResult<StreamingUpdate> stream = await client.CreateRunStreamingAsync(threadId, assistantId, null, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            string? runId = null;
            List<RequiredActionUpdate>? required = null;
            SdkRunStatus? status = null;
            await using (((IAsyncDisposable)stream).ConfigureAwait(false))
            {
                await foreach (StreamingUpdate update in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    switch (update)
                    {
                        case RequiredActionUpdate action:
                            (required ??= []).Add(action);
                            break;
                        case RunUpdate runUpdate:
                            runId = runUpdate.Value.Id;
                            status = runUpdate.Value.Status;
                            break;
                        case MessageContentUpdate content when content.Text is { } delta:
                            text.Append(delta);
                            break;
                    }
                }
            }

            if (required is null)
            {
                return status == SdkRunStatus.Completed ? text.ToString() : throw new InvalidOperationException($"The run ended {status}.");
            }

            var outputs = new List<ToolOutput>(required.Count);
            foreach (RequiredActionUpdate action in required)
            {
                outputs.Add(new ToolOutput(action.ToolCallId, Invoke(action.FunctionName, action.FunctionArguments)));
            }

            stream = await client.SubmitToolOutputsToRunStreamingAsync(threadId, runId ?? required[0].GetThreadRun().Id, outputs, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The hand-written dispatch: parse the arguments, call the method, serialize the result.</summary>
    private static string Invoke(string name, string argumentsJson)
    {
        if (name != TurnScript.ToolName)
        {
            return """{"error":"unknown tool"}""";
        }

        using JsonDocument arguments = JsonDocument.Parse(argumentsJson);
        JsonElement root = arguments.RootElement;
        string orderId = root.GetProperty("orderId").GetString()!;
        bool includeLines = root.TryGetProperty("includeLines", out JsonElement lines) && lines.GetBoolean();
        return JsonSerializer.Serialize(Tools.GetStatus(orderId, includeLines), ToolJson);
    }

    public void Dispose() => _http.Dispose();
}
