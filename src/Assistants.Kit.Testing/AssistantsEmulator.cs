using System.Net;
using Assistants.Kit.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assistants.Kit.Testing;

/// <summary>
/// An in-process HTTP server on loopback that behaves like OpenAI's hosted Assistants v2 API (assistants, threads,
/// messages, runs, run steps, streaming) and its replacement, the Responses + Conversations API, so that code written
/// against the official OpenAI client runs offline.
/// </summary>
/// <remarks>
/// <para>
/// Start it with <c>await using var emulator = await AssistantsEmulator.StartAsync();</c> and point a client at
/// <see cref="BaseUri"/> (it ends in <c>/v1</c>), e.g. <c>new AssistantClient(new ApiKeyCredential("any"), new
/// AssistantClientOptions { Endpoint = emulator.BaseUri })</c> or <c>new ResponsesClient(…, new ResponsesClientOptions {
/// Endpoint = emulator.BaseUri })</c>. Assistants requests must carry <c>OpenAI-Beta: assistants=v2</c> (the official
/// client sends it); Responses and Conversations requests need no beta header.
/// </para>
/// <para>
/// Responses are built from state, with the shapes of the real service's recorded traffic, including its harmless
/// presentation quirks: message objects in REST responses carry no <c>status</c> / <c>incomplete_details</c> /
/// <c>completed_at</c> / <c>incomplete_at</c> (stream events do); a run step's <c>expires_at</c> is <c>null</c> in REST
/// once the step ended (stream events keep the deadline); a thread shown on GET or in <c>thread.created</c>, and a run
/// shown in stream events, carry an empty <c>code_interpreter</c> resource in <c>tool_resources</c>; a function tool
/// without <c>parameters</c> gets an empty object schema. Known differences, where the emulator answers consistently
/// instead of copying a quirk: modifying a message returns <c>attachments</c> (the real service returns the v1-era
/// <c>file_ids: []</c>); a run that ends incomplete is streamed as <c>thread.run.incomplete</c> with the reason that
/// applied (the real v2 service sent <c>thread.run.completed</c> with <c>max_prompt_tokens</c> for a
/// <c>max_completion_tokens</c> cut).
/// </para>
/// <para>
/// Files and vector stores: <c>POST /files</c> (multipart <c>file</c> + <c>purpose</c>), list, get,
/// <c>GET /files/{id}/content</c> (refused, as on the service, for purpose <c>assistants</c>; code interpreter outputs
/// have purpose <c>assistants_output</c>), delete; <c>/vector_stores</c> create (with <c>file_ids</c>,
/// <c>chunking_strategy</c>, <c>metadata</c>, <c>expires_after</c>), list, get, modify, delete; their files (add with
/// <c>attributes</c> and <c>chunking_strategy</c>, list with <c>filter</c>, get, update attributes, remove) and file
/// batches (<c>file_ids</c> or per-file <c>files</c>; get, cancel, list files). A file added to a vector store is
/// <c>in_progress</c> for <see cref="AssistantsEmulatorOptions.FileProcessingDuration"/>, then <c>completed</c> (its
/// <c>usage_bytes</c> = its size) or <c>failed</c>: with a scripted failure
/// (<see cref="EmulatorScript.FailFileProcessing(string, string, string?)"/>), with <c>unsupported_file</c> when file
/// search does not read its extension, with <c>invalid_file</c> when it is empty. Inline <c>vector_stores</c> in
/// <c>tool_resources</c> create real stores. Runs execute file_search and code_interpreter only when the script asks
/// (<see cref="ScriptedRun.SearchFiles"/>, <see cref="ScriptedRun.RunCode(string, string?, bool)"/>): file search is a
/// deterministic keyword match over the text of the completed files of the assistant's and the thread's vector stores
/// and of files attached to the thread's messages for file search (the service would build a thread vector store from
/// those attachments; the emulator searches them directly), and the reply cites what it found with real
/// <c>file_citation</c> annotations. Known differences: <c>usage_bytes</c> is the file size (the service counts its
/// index); re-adding a file a store holds processes it again; the Responses surface runs no hosted tools.
/// </para>
/// <para>
/// The Responses + Conversations surface: <c>POST /responses</c> (plain, <c>stream</c>, <c>background</c>; with
/// <c>conversation</c> or <c>previous_response_id</c>, or stateless), <c>GET /responses/{id}</c> (also
/// <c>?stream=true&amp;starting_after=N</c> to resume a background response's stream), <c>POST /responses/{id}/cancel</c>
/// (background responses only; idempotent), <c>DELETE /responses/{id}</c>, <c>GET /responses/{id}/input_items</c>,
/// <c>POST /responses/input_tokens</c>; <c>/conversations</c> create, get, update (metadata), delete, and their items
/// (create, list, get, delete). Output items are <c>message</c> (<c>output_text</c> with annotations) and
/// <c>function_call</c> items (several in one response are parallel calls); a response whose input answers the pending
/// calls with <c>function_call_output</c> items continues the turn. Presentation as recorded: the newest (2026) response
/// shape; <c>billing</c> only on REST snapshots of finished responses; no <c>[DONE]</c> at the end of a stream;
/// <c>sequence_number</c> from 0; <c>obfuscation</c> padding on foreground deltas (not on background streams, as
/// recorded); <c>response.function_call_arguments.done</c> without <c>name</c>; function tools without <c>strict</c> made
/// strict (all properties required, no others); stored <c>function_call_output</c> items with an <c>fc_</c> ID. Known
/// differences: the <c>mutually_exclusive_parameters</c> message names both parameters (the recorded one is garbled);
/// deleting a conversation item answers <c>conversation.item.deleted</c> (the only wire sample; the spec says the
/// conversation); reasoning, hosted tools (web search, file search, MCP, code interpreter) and
/// <c>POST /responses/compact</c> are not emulated; a cancelled background stream just ends (there is no
/// <c>response.cancelled</c> event). A finished response's input and output items join its conversation; failed and
/// cancelled ones add nothing.
/// </para>
/// <para>
/// Runs and responses progress lazily from <see cref="AssistantsEmulatorOptions.TimeProvider"/>: nothing runs in the
/// background, every read settles what is due (a foreground response request answers once its model step's time has
/// passed on that clock). <see cref="Script"/> decides what the "model" does on both surfaces, <see cref="Faults"/> injects
/// HTTP failures and <see cref="Requests"/> logs every request. IDs have the real formats (<c>asst_</c>, <c>thread_</c>,
/// <c>msg_</c>, <c>run_</c>, <c>step_</c>, <c>call_</c> and 24 random alphanumerics; <c>resp_</c>, <c>msg_</c>,
/// <c>fc_</c> and 50 random hex digits, <c>conv_</c> and conversation items 48) and are never handed out twice.
/// </para>
/// </remarks>
public sealed partial class AssistantsEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly StatePersistence? _persistence;
    private int _disposed;

    private AssistantsEmulator(
        WebApplication app,
        CancellationTokenSource stopping,
        StatePersistence? persistence,
        Uri baseUri,
        AssistantsEmulatorOptions options,
        EmulatorScript script,
        EmulatorFaults faults,
        EmulatorRequestLog requests)
    {
        _app = app;
        _stopping = stopping;
        _persistence = persistence;
        BaseUri = baseUri;
        Options = options;
        Script = script;
        Faults = faults;
        Requests = requests;
    }

    /// <summary>Gets the API's base address, <c>http://127.0.0.1:{port}/v1</c> (the port is a free one chosen at start).</summary>
    public Uri BaseUri { get; }

    /// <summary>Gets the options the emulator runs with.</summary>
    public AssistantsEmulatorOptions Options { get; }

    /// <summary>Gets the scripted model.</summary>
    public EmulatorScript Script { get; }

    /// <summary>Gets the fault injection rules.</summary>
    public EmulatorFaults Faults { get; }

    /// <summary>Gets the log of every request received.</summary>
    public EmulatorRequestLog Requests { get; }

    /// <summary>Starts an emulator on <c>127.0.0.1</c> and a free port.</summary>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running emulator; dispose it to stop it.</returns>
    /// <exception cref="InvalidDataException">The <see cref="AssistantsEmulatorOptions.StatePath"/> file exists but is not a state document.</exception>
    public static async Task<AssistantsEmulator> StartAsync(AssistantsEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AssistantsEmulatorOptions();
        ArgumentNullException.ThrowIfNull(options.TimeProvider);

        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<AssistantsEmulator>();
        StatePersistence? persistence = null;
        StateData? data = null;
        if (!string.IsNullOrEmpty(options.StatePath))
        {
            data = StatePersistence.Load(options.StatePath);
            persistence = new StatePersistence(options.StatePath);
        }

        var store = new EmulatorStore(options.TimeProvider, data);
        var script = new EmulatorScript();
        var faults = new EmulatorFaults();
        var requests = new EmulatorRequestLog();
        var files = new VectorStoreEngine(store, options, script);
        var engine = new RunEngine(store, options, script, logger, files);
        var routes = new RouteTable();
        new AssistantsApi(store, engine, options, files).Register(routes);
        new FilesApi(store).Register(routes);
        new VectorStoresApi(store, files).Register(routes);

        // The Responses + Conversations surface shares the store's lock and ID issuing, the script, fault injection, the
        // request log and persistence.
        new ResponsesApi(store, new ResponsesEngine(store, options, script, logger)).Register(routes);
        new ConversationsApi(store).Register(routes);
        var stopping = new CancellationTokenSource();
        var pipeline = new EmulatorPipeline(options, store, routes, faults, requests, persistence, logger, stopping.Token);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(AssistantsEmulator).Assembly.GetName().Name });
        builder.Services.AddSingleton<ILoggerFactory>(new StreamCutLogFilter(loggerFactory));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 32 * 1024 * 1024;
            kestrel.Limits.MaxResponseBufferSize = EmulatorPipeline.ResponseBufferSize;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.Run(pipeline.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            persistence?.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        var baseUri = new Uri($"http://127.0.0.1:{port}/v1");
        LogStarted(logger, baseUri);
        return new AssistantsEmulator(app, stopping, persistence, baseUri, options, script, faults, requests);
    }

    /// <summary>Stops the server: open streams end, pending requests are abandoned.</summary>
    /// <returns>A task that completes when the server stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
            _persistence?.Dispose();
        }
    }

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Assistants emulator listening on {BaseUri}")]
    private static partial void LogStarted(ILogger logger, Uri baseUri);
}
