using System.Collections;
using Assistants.Kit;
using Assistants.Kit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Samples;

/// <summary>
/// What every sample does before it talks to a model: read the kit's configuration from the environment (<c>__</c> as
/// separator), pick the server (<c>OPENAI_BASE_URL</c>, OpenAI's endpoint with <c>OPENAI_API_KEY</c>, or the built-in
/// emulator when neither is set) and create the state folder <c>.assistants-kit/</c> in the current directory.
/// </summary>
internal sealed class SampleConnection : IAsyncDisposable
{
    /// <summary>The folder (under the current directory) that holds a sample's state and outputs.</summary>
    public const string StateFolder = ".assistants-kit";

    private SampleConnection(IConfiguration configuration, IReadOnlyDictionary<string, string?> environment, string stateDirectory, Uri? endpoint, AssistantsEmulator? emulator)
    {
        Configuration = configuration;
        StateDirectory = stateDirectory;
        Endpoint = endpoint;
        Emulator = emulator;
        ApiKey = Get(environment, "OPENAI_API_KEY");
        Model = Get(environment, "OPENAI_MODEL");
    }

    /// <summary>The kit's configuration taken from the environment (<c>AssistantsKit__Protocol</c> → <c>AssistantsKit:Protocol</c>).</summary>
    public IConfiguration Configuration { get; }

    /// <summary>The state folder (created).</summary>
    public string StateDirectory { get; }

    /// <summary>The server's endpoint; <see langword="null"/> for OpenAI's (the kit's default).</summary>
    public Uri? Endpoint { get; }

    /// <summary>The in-process emulator, when no server was configured.</summary>
    public AssistantsEmulator? Emulator { get; }

    private string? ApiKey { get; }

    private string? Model { get; }

    /// <summary>Reads the process environment into a dictionary (the samples take it as a parameter so tests can give their own).</summary>
    public static Dictionary<string, string?> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables()
            .Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

    /// <summary>A token cancelled by the first Ctrl+C (the kit then cancels the run on the server); a second one kills the process.</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        };
        return cancellation;
    }

    /// <summary>
    /// Resolves the server and prepares the state folder. Configuration errors are written to <paramref name="stderr"/>
    /// as <c>error: …</c> and give <see langword="null"/> (the sample then exits with code 2).
    /// </summary>
    /// <param name="environment">The environment variables.</param>
    /// <param name="workingDirectory">The directory the state folder goes into.</param>
    /// <param name="stderr">Where diagnostics go.</param>
    /// <param name="emulatorStateFile">The emulator's state file name inside the state folder.</param>
    /// <param name="script">Scripts the emulator's model for this sample.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The connection, or <see langword="null"/> after a configuration error.</returns>
    public static async Task<SampleConnection?> OpenAsync(
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        TextWriter stderr,
        string emulatorStateFile,
        Action<EmulatorScript> script,
        CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment
                .Where(e => e.Key.Contains("__", StringComparison.Ordinal))
                .Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)))
            .Build();
        var apiKey = Get(environment, "OPENAI_API_KEY");
        var baseUrl = Get(environment, "OPENAI_BASE_URL");
        if (!Enum.TryParse<AssistantsProtocol>(configuration["AssistantsKit:Protocol"] ?? nameof(AssistantsProtocol.Assistants), ignoreCase: true, out var protocol))
        {
            stderr.WriteLine($"error: AssistantsKit:Protocol must be Assistants or Responses (was '{configuration["AssistantsKit:Protocol"]}')");
            return null;
        }

        var stateDirectory = Path.Combine(workingDirectory, StateFolder);
        Directory.CreateDirectory(stateDirectory);
        stderr.WriteLine($"state: {stateDirectory}");

        if (apiKey is null && baseUrl is null)
        {
            var emulator = await AssistantsEmulator.StartAsync(
                new AssistantsEmulatorOptions { StatePath = Path.Combine(stateDirectory, emulatorStateFile) },
                cancellationToken).ConfigureAwait(false);
            script(emulator.Script);
            stderr.WriteLine($"no OPENAI_API_KEY or OPENAI_BASE_URL: using the built-in emulator at {emulator.BaseUri}");
            return new SampleConnection(configuration, environment, stateDirectory, emulator.BaseUri, emulator);
        }

        if (baseUrl is null && protocol == AssistantsProtocol.Assistants)
        {
            stderr.WriteLine("error: OpenAI switched its hosted Assistants API off on 2026-08-26. Set OPENAI_BASE_URL to an Assistants-compatible server (Azure Foundry classic agents, a self-hosted server), or AssistantsKit__Protocol=Responses.");
            return null;
        }

        Uri? endpoint = null;
        if (baseUrl is not null && !Uri.TryCreate(baseUrl, UriKind.Absolute, out endpoint))
        {
            stderr.WriteLine($"error: OPENAI_BASE_URL must be an absolute URL including /v1 (was '{baseUrl}')");
            return null;
        }

        return new SampleConnection(configuration, environment, stateDirectory, endpoint, emulator: null);
    }

    /// <summary>Points the kit at this connection's server with its key, and sets the model (<c>OPENAI_MODEL</c> or <paramref name="defaultModel"/>).</summary>
    /// <param name="options">The kit's options.</param>
    /// <param name="defaultModel">The sample's default model.</param>
    public void Apply(AssistantsKitOptions options, string defaultModel)
    {
        options.Endpoint = Endpoint ?? options.Endpoint;
        options.ApiKey = ApiKey ?? options.ApiKey;
        options.DefaultModel = Model ?? defaultModel;
    }

    /// <summary>
    /// <c>--new</c>: forgets the conversation key's binding for the protocol in use, so the next run starts a new thread
    /// (or conversation); says so on stderr when there was one.
    /// </summary>
    /// <param name="services">The sample's services.</param>
    /// <param name="conversationKey">The conversation key.</param>
    /// <param name="stderr">Where diagnostics go.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the binding is gone.</returns>
    public static async Task StartNewConversationAsync(IServiceProvider services, string conversationKey, TextWriter stderr, CancellationToken cancellationToken)
    {
        var protocol = services.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Protocol;
        if (await services.GetRequiredService<IConversationStore>().DeleteAsync(conversationKey, protocol, cancellationToken).ConfigureAwait(false))
        {
            stderr.WriteLine($"started a new conversation for '{conversationKey}'");
        }
    }

    /// <summary>The contract's last stdout line: this run's tokens and cost, and the conversation's cost so far.</summary>
    /// <param name="result">The run's result.</param>
    /// <returns>The <c>usage …</c> line.</returns>
    public static string UsageLine(RunResult result)
    {
        var usage = result.Cost?.Usage ?? result.Usage ?? TokenUsage.Zero;
        var totals = result.Cost?.ConversationTotals;
        var conversationCost = totals is { CostIsComplete: true } ? RunCostSummary.FormatCost(totals.Cost) : "unknown";
        return $"usage input={usage.InputTokens} cached={usage.CachedInputTokens} output={usage.OutputTokens} reasoning={usage.ReasoningTokens} total={usage.TotalTokens} cost={RunCostSummary.FormatCost(result.Cost?.Cost)} conversation_cost={conversationCost}";
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Emulator is not null)
        {
            await Emulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}
