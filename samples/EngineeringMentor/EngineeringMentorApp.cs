using System.Globalization;
using Assistants.Kit;
using Assistants.Kit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EngineeringMentor;

/// <summary>
/// The Engineering Mentor sample: file search over a Markdown handbook shipped with it, and code interpreter for charts.
/// The handbook is ingested idempotently (uploaded and indexed once; a later run finds it by its content hash), the
/// answer is printed with its citations (file name and quoted text), and generated images are saved under
/// <c>.assistants-kit/outputs/</c>. Runs on any Assistants v2 compatible server, or on the built-in emulator.
/// </summary>
/// <remarks>
/// stdout: <c>assistant: TEXT</c>, then one <c>citation [N] FILE: "QUOTE"</c> per citation, <c>code logs: LOGS</c> per
/// code interpreter call, <c>saved: PATH</c> per file the run produced, and the <c>usage …</c> line. Exit codes as in
/// the Order Support sample (0 completed, 1 run not completed, 2 usage or configuration, 3 server or transport).
/// </remarks>
public static class EngineeringMentorApp
{
    /// <summary>The model used when <c>OPENAI_MODEL</c> is not set.</summary>
    public const string DefaultModel = "gpt-4.1-mini";

    /// <summary>The folder (under the current directory) that holds the sample's state and outputs.</summary>
    public const string StateFolder = ".assistants-kit";

    /// <summary>The handbook's file name (as uploaded, and as citations show it).</summary>
    public const string HandbookName = "engineering-handbook.md";

    /// <summary>The vector store the handbook is ingested into (found again by this name).</summary>
    public const string VectorStoreName = "engineering-mentor-handbook";

    public const int ExitCompleted = 0;
    public const int ExitRunNotCompleted = 1;
    public const int ExitUsage = 2;
    public const int ExitServerError = 3;

    private const string UsageText = """
        usage: dotnet run --project samples/EngineeringMentor -- [--poll] [--new] [--conversation KEY] <question words…>
          --poll               use the polled path instead of streaming
          --new                start a new conversation for the key instead of continuing the stored one
          --conversation KEY   the conversation key (default: mentor)
        environment: OPENAI_API_KEY, OPENAI_BASE_URL (including /v1), OPENAI_MODEL, AssistantsKit__* (any kit option)
        with neither OPENAI_API_KEY nor OPENAI_BASE_URL set, the built-in emulator runs in-process.
        """;

    /// <summary>Gets the handbook shipped with the sample.</summary>
    public static byte[] Handbook()
    {
        using var stream = typeof(EngineeringMentorApp).Assembly.GetManifestResourceStream(HandbookName)
            ?? throw new InvalidOperationException($"The sample's {HandbookName} resource is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public static async Task<int> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string?> environment,
        TextWriter stdout,
        TextWriter stderr,
        string workingDirectory,
        CancellationToken cancellationToken)
    {
        if (!TryParse(args, out var message, out var conversationKey, out var poll, out var isNew, out var error))
        {
            stderr.WriteLine($"error: {error}");
            stderr.WriteLine(UsageText);
            return ExitUsage;
        }

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
            return ExitUsage;
        }

        var stateDirectory = Path.Combine(workingDirectory, StateFolder);
        Directory.CreateDirectory(stateDirectory);
        stderr.WriteLine($"state: {stateDirectory}");

        AssistantsEmulator? emulator = null;
        try
        {
            Uri? endpoint = null;
            if (apiKey is null && baseUrl is null)
            {
                emulator = await AssistantsEmulator.StartAsync(
                    new AssistantsEmulatorOptions { StatePath = Path.Combine(stateDirectory, "mentor-emulator-state.json") },
                    cancellationToken).ConfigureAwait(false);
                MentorScript.Apply(emulator.Script);
                endpoint = emulator.BaseUri;
                stderr.WriteLine($"no OPENAI_API_KEY or OPENAI_BASE_URL: using the built-in emulator at {endpoint}");
            }
            else if (baseUrl is null && protocol == AssistantsProtocol.Assistants)
            {
                stderr.WriteLine("error: OpenAI switched its hosted Assistants API off on 2026-08-26. Set OPENAI_BASE_URL to an Assistants-compatible server (Azure Foundry classic agents, a self-hosted server), or AssistantsKit__Protocol=Responses.");
                return ExitUsage;
            }
            else if (baseUrl is not null && !Uri.TryCreate(baseUrl, UriKind.Absolute, out endpoint))
            {
                stderr.WriteLine($"error: OPENAI_BASE_URL must be an absolute URL including /v1 (was '{baseUrl}')");
                return ExitUsage;
            }

            await using var provider = BuildServices(configuration, environment, endpoint, apiKey, stderr, stateDirectory);
            AssistantRunner runner;
            AssistantFiles files;
            try
            {
                runner = provider.GetRequiredService<AssistantRunner>();
                files = provider.GetRequiredService<AssistantFiles>();
            }
            catch (OptionsValidationException ex)
            {
                stderr.WriteLine($"error: {ex.Message}");
                return ExitUsage;
            }

            if (isNew)
            {
                var protocolInUse = provider.GetRequiredService<IOptions<AssistantsKitOptions>>().Value.Protocol;
                if (await provider.GetRequiredService<IConversationStore>().DeleteAsync(conversationKey, protocolInUse, cancellationToken).ConfigureAwait(false))
                {
                    stderr.WriteLine($"started a new conversation for '{conversationKey}'");
                }
            }

            return await AskAsync(runner, files, message, conversationKey, poll, stdout, stderr, workingDirectory, stateDirectory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (emulator is not null)
            {
                await emulator.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> AskAsync(
        AssistantRunner runner,
        AssistantFiles files,
        string message,
        string conversationKey,
        bool poll,
        TextWriter stdout,
        TextWriter stderr,
        string workingDirectory,
        string stateDirectory,
        CancellationToken cancellationToken)
    {
        RunResult result;
        try
        {
            // Idempotent: the first run uploads and indexes the handbook; later runs find it by its SHA-256.
            var ingestion = await files.IngestAsync(VectorStoreName, [FileSource.FromBytes(Handbook(), HandbookName)], cancellationToken: cancellationToken).ConfigureAwait(false);
            stderr.WriteLine($"handbook: vector store {ingestion.VectorStoreId} ({ingestion.Uploaded} uploaded, {ingestion.Reused} reused)");
            ingestion.EnsureSuccess();

            var definition = new AssistantDefinition { Name = "engineering-mentor", Instructions = MentorScript.Instructions }
                .UseFileSearch(ingestion.VectorStoreId)
                .UseCodeInterpreter();
            var options = new RunOptions { Assistant = definition };
            result = poll
                ? await runner.RunAsync(conversationKey, message, options, cancellationToken).ConfigureAwait(false)
                : await StreamedAsync(runner, conversationKey, message, options, stdout, cancellationToken).ConfigureAwait(false);
            if (poll)
            {
                stdout.WriteLine($"assistant: {result.Text}");
            }
        }
        catch (FileIngestionException ex)
        {
            stderr.WriteLine($"handbook not processed: {ex.Message}");
            return ExitServerError;
        }
        catch (RunFailedException ex)
        {
            stderr.WriteLine($"run failed: {ex.Code}: {ex.Error.Message}");
            return ExitRunNotCompleted;
        }
        catch (RunTimeoutException ex)
        {
            stderr.WriteLine($"run timed out: {ex.Message}");
            return ExitRunNotCompleted;
        }
        catch (AssistantsServerException ex)
        {
            stderr.WriteLine($"server error: {ex.Message}");
            return ExitServerError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            stderr.WriteLine("run cancelled: interrupted (the run was cancelled on the server)");
            return ExitRunNotCompleted;
        }

        var number = 0;
        foreach (var citation in result.GetCitations())
        {
            stdout.WriteLine($"citation [{++number}] {citation.FileName ?? citation.FileId}: \"{OneLine(citation.Quote)}\"");
        }

        foreach (var call in result.GetCodeInterpreterCalls())
        {
            foreach (var logs in call.CodeInterpreterLogs)
            {
                stdout.WriteLine($"code logs: {OneLine(logs)}");
            }
        }

        try
        {
            foreach (var saved in await files.SaveOutputFilesAsync(result, Path.Combine(stateDirectory, "outputs"), cancellationToken).ConfigureAwait(false))
            {
                stdout.WriteLine($"saved: {Path.GetRelativePath(workingDirectory, saved.Path)}");
            }
        }
        catch (AssistantsServerException ex)
        {
            stderr.WriteLine($"could not download an output file: {ex.Message}");
        }

        var usage = result.Cost?.Usage ?? result.Usage ?? TokenUsage.Zero;
        var totals = result.Cost?.ConversationTotals;
        var conversationCost = totals is { CostIsComplete: true } ? RunCostSummary.FormatCost(totals.Cost) : "unknown";
        stdout.WriteLine($"usage input={usage.InputTokens} cached={usage.CachedInputTokens} output={usage.OutputTokens} reasoning={usage.ReasoningTokens} total={usage.TotalTokens} cost={RunCostSummary.FormatCost(result.Cost?.Cost)} conversation_cost={conversationCost}");
        if (result.Status == RunStatus.Completed)
        {
            return ExitCompleted;
        }

        stderr.WriteLine($"run {result.Status.ToWireString()}{(result.IncompleteReason is null ? string.Empty : ": " + result.IncompleteReason)}");
        return ExitRunNotCompleted;
    }

    /// <summary>The streamed path: the reply's text as it arrives, then a newline.</summary>
    private static async Task<RunResult> StreamedAsync(AssistantRunner runner, string conversationKey, string message, RunOptions options, TextWriter stdout, CancellationToken cancellationToken)
    {
        stdout.Write("assistant: ");
        RunFinishedEvent? finished = null;
        string? lastMessage = null;
        await foreach (var e in runner.StreamAsync(conversationKey, message, options, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case TextDeltaEvent text:
                    if (lastMessage is not null && text.MessageId != lastMessage)
                    {
                        stdout.Write('\n');
                    }

                    lastMessage = text.MessageId;
                    stdout.Write(text.Text);
                    stdout.Flush();
                    break;
                case RunFinishedEvent end:
                    finished = end;
                    break;
            }
        }

        stdout.WriteLine();
        return finished switch
        {
            { Result: { } result } => result,
            { Error: { } error } => throw new RunFailedException(error, finished.ThreadId, finished.RunId ?? string.Empty),
            _ => throw new InvalidOperationException("The run stream ended without a final event."),
        };
    }

    private static ServiceProvider BuildServices(IConfiguration configuration, IReadOnlyDictionary<string, string?> environment, Uri? endpoint, string? apiKey, TextWriter stderr, string stateDirectory)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new StderrLoggerProvider(stderr)));
        services.AddSingleton(configuration);
        services.AddAssistantsKit(configuration)
            .AddFiles()
            .AddSqliteStore(Path.Combine(stateDirectory, "mentor-conversations.db"));
        services.AddAssistantsKit(options =>
        {
            options.Endpoint = endpoint ?? options.Endpoint;
            options.ApiKey = apiKey ?? options.ApiKey;
            options.DefaultModel = Get(environment, "OPENAI_MODEL") ?? DefaultModel;
        });
        return services.BuildServiceProvider();
    }

    private static bool TryParse(string[] args, out string message, out string conversationKey, out bool poll, out bool isNew, out string? error)
    {
        var words = new List<string>();
        (message, conversationKey, poll, isNew, error) = (string.Empty, "mentor", false, false, null);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--poll":
                    poll = true;
                    break;
                case "--new":
                    isNew = true;
                    break;
                case "--conversation" when i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal):
                    conversationKey = args[++i];
                    break;
                case "--conversation":
                    error = "--conversation needs a KEY";
                    return false;
                case { } flag when flag.StartsWith("--", StringComparison.Ordinal):
                    error = $"unknown flag {flag}";
                    return false;
                default:
                    words.Add(args[i]);
                    break;
            }
        }

        message = string.Join(' ', words).Trim();
        error = message.Length == 0 ? "no question" : null;
        return error is null;
    }

    private static string OneLine(string? text)
    {
        var line = string.Join(' ', (text ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 240 ? line : string.Create(CultureInfo.InvariantCulture, $"{line[..239]}…");
    }

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>Warnings and errors as plain lines on stderr (stdout carries only the result lines).</summary>
    private sealed class StderrLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        private readonly Lock _lock = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(StderrLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lock (owner._lock)
                    {
                        owner.Write($"{(logLevel == LogLevel.Warning ? "warning" : "error")}: {formatter(state, exception)}");
                    }
                }
            }
        }

        private void Write(string line) => writer.WriteLine(line);
    }
}
