using System.Globalization;
using Assistants.Kit;
using Assistants.Kit.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
    public const string StateFolder = SampleConnection.StateFolder;

    /// <summary>The handbook's file name (as uploaded, and as citations show it).</summary>
    public const string HandbookName = "engineering-handbook.md";

    /// <summary>The vector store the handbook is ingested into (found again by this name).</summary>
    public const string VectorStoreName = "engineering-mentor-handbook";

    public const int ExitCompleted = SampleExit.Completed;
    public const int ExitRunNotCompleted = SampleExit.RunNotCompleted;
    public const int ExitUsage = SampleExit.Usage;
    public const int ExitServerError = SampleExit.ServerError;

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

        await using var connection = await SampleConnection.OpenAsync(
            environment, workingDirectory, stderr, "mentor-emulator-state.json", MentorScript.Apply, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return ExitUsage;
        }

        await using var provider = BuildServices(connection, stderr);
        AssistantRunner runner;
        AssistantFiles files;
        try
        {
            runner = provider.GetRequiredService<AssistantRunner>();
            files = provider.GetRequiredService<AssistantFiles>();
        }
        catch (Exception ex) when (SampleExit.IsConfigurationError(ex))
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitUsage;
        }

        if (isNew)
        {
            await SampleConnection.StartNewConversationAsync(provider, conversationKey, stderr, cancellationToken).ConfigureAwait(false);
        }

        return await AskAsync(runner, files, message, conversationKey, poll, stdout, stderr, workingDirectory, connection.StateDirectory, cancellationToken).ConfigureAwait(false);
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
        catch (Exception ex) when (SampleExit.IsRunOutcome(ex, cancellationToken))
        {
            return SampleExit.Report(ex, stderr);
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

        stdout.WriteLine(SampleConnection.UsageLine(result));
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

    private static ServiceProvider BuildServices(SampleConnection connection, TextWriter stderr)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new TextWriterLoggerProvider(stderr, LogLevel.Warning)));
        services.AddSingleton(connection.Configuration);
        services.AddAssistantsKit(connection.Configuration)
            .AddFiles()
            .AddSqliteStore(Path.Combine(connection.StateDirectory, "mentor-conversations.db"));
        services.AddAssistantsKit(options => connection.Apply(options, DefaultModel));
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
}
