using Assistants.Kit;
using Assistants.Kit.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrderSupport;

/// <summary>
/// The Order Support sample: one message in, the assistant's reply out, following the sample contract (stdout lines,
/// stderr diagnostics, exit codes). Runs on any Assistants v2 compatible server, or on the built-in emulator.
/// </summary>
public static class OrderSupportApp
{
    /// <summary>The model used when <c>OPENAI_MODEL</c> is not set.</summary>
    public const string DefaultModel = "gpt-4.1-mini";

    /// <summary>The folder (under the current directory) that holds the sample's state.</summary>
    public const string StateFolder = SampleConnection.StateFolder;

    public const int ExitCompleted = SampleExit.Completed;
    public const int ExitRunNotCompleted = SampleExit.RunNotCompleted;
    public const int ExitUsage = SampleExit.Usage;
    public const int ExitServerError = SampleExit.ServerError;
    public const int ExitBudget = SampleExit.Budget;

    public static async Task<int> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string?> environment,
        TextWriter stdout,
        TextWriter stderr,
        string workingDirectory,
        bool isTerminal,
        TextReader stdin,
        CancellationToken cancellationToken)
    {
        var command = CommandLine.Parse(args, out var error);
        if (command is null)
        {
            stderr.WriteLine($"error: {error}");
            stderr.WriteLine(CommandLine.Usage);
            return ExitUsage;
        }

        await using var connection = await SampleConnection.OpenAsync(
            environment, workingDirectory, stderr, "emulator-state.json", OrderSupportScript.Apply, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return ExitUsage;
        }

        using var telemetry = StderrTelemetry.StartIfRequested(environment, stderr);
        await using var provider = BuildServices(connection, stderr);
        AssistantRunner runner;
        try
        {
            runner = provider.GetRequiredService<AssistantRunner>();
        }
        catch (Exception ex) when (SampleExit.IsConfigurationError(ex))
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitUsage;
        }

        if (command.New)
        {
            await SampleConnection.StartNewConversationAsync(provider, command.ConversationKey, stderr, cancellationToken).ConfigureAwait(false);
        }

        return await RunOnceAsync(runner, command, new Approver(command.Approve, isTerminal, stdin, stderr), stdout, stderr, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> RunOnceAsync(AssistantRunner runner, CommandLine command, Approver approver, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        RunResult result;
        var printed = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            // An earlier session that stopped at the approval prompt left its run paused: close it (the model is told the
            // session ended) so this message can run; its reply is not this message's, so it goes to stderr only.
            foreach (var leftover in await runner.GetPendingApprovalsAsync(command.ConversationKey, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await runner.RejectAsync(leftover.ApprovalId, "the earlier session ended before anyone decided", cancellationToken: cancellationToken).ConfigureAwait(false);
                    stderr.WriteLine($"closed an undecided approval from an earlier session: {leftover.ToolName} {leftover.ArgumentsJson} (rejected)");
                }
                catch (Exception ex) when (ex is ApprovalAlreadyDecidedException or ApprovalExpiredException or ApprovalNotFoundException)
                {
                    // Decided or closed meanwhile: nothing to do.
                }
            }

            result = command.Poll
                ? await PolledAsync(runner.RunAsync(command.ConversationKey, command.Message, cancellationToken: cancellationToken), stdout, printed).ConfigureAwait(false)
                : await StreamedAsync(runner.StreamAsync(command.ConversationKey, command.Message, cancellationToken: cancellationToken), stdout, printed).ConfigureAwait(false);

            // Refunds wait for a person: asked on the terminal, or decided by --approve when there is none. The run then
            // goes on the same way it started (polled, or streamed).
            const string Declined = "the customer service agent declined the refund";
            while (result.IsAwaitingApproval)
            {
                var approval = result.PendingApprovals[0];
                var approved = approver.Decide(approval);
                stdout.WriteLine($"approval {approval.ToolName} {approval.ArgumentsJson} -> {(approved ? "approved" : "rejected")}");
                result = command.Poll
                    ? await PolledAsync(
                        approved
                            ? runner.ApproveAsync(approval.ApprovalId, cancellationToken: cancellationToken)
                            : runner.RejectAsync(approval.ApprovalId, Declined, cancellationToken: cancellationToken),
                        stdout,
                        printed).ConfigureAwait(false)
                    : await StreamedAsync(
                        approved
                            ? runner.ApproveStreamAsync(approval.ApprovalId, cancellationToken: cancellationToken)
                            : runner.RejectStreamAsync(approval.ApprovalId, Declined, cancellationToken: cancellationToken),
                        stdout,
                        printed).ConfigureAwait(false);
            }
        }
        catch (ConversationAwaitingApprovalException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitRunNotCompleted;
        }
        catch (ApprovalExpiredException ex)
        {
            stderr.WriteLine($"run expired: {ex.Message}");
            return ExitRunNotCompleted;
        }
        catch (Exception ex) when (SampleExit.IsRunOutcome(ex, cancellationToken))
        {
            return SampleExit.Report(ex, stderr);
        }

        stdout.WriteLine(SampleConnection.UsageLine(result));
        switch (result.Status)
        {
            case RunStatus.Completed:
                return ExitCompleted;
            case RunStatus.Incomplete:
                stderr.WriteLine($"run incomplete: {result.IncompleteReason ?? "unknown"}");
                return ExitRunNotCompleted;
            default:
                stderr.WriteLine($"run {result.Status.ToWireString()}{(result.StopReason is null ? string.Empty : ": " + result.StopReason)}");
                return ExitRunNotCompleted;
        }
    }

    /// <summary>The polled path: the tool lines once the run ended (in completion order), then the reply.</summary>
    private static async Task<RunResult> PolledAsync(Task<RunResult> run, TextWriter stdout, HashSet<string> printed)
    {
        var result = await run.ConfigureAwait(false);
        foreach (var call in result.ToolCalls.Where(c => printed.Add(c.ToolCallId)))
        {
            stdout.WriteLine(ToolLine(call));
        }

        if (!result.IsAwaitingApproval)
        {
            stdout.WriteLine($"assistant: {result.Text}");
        }

        return result;
    }

    /// <summary>The streamed path: tool lines as calls finish, the reply's text as it arrives, then a newline.</summary>
    private static async Task<RunResult> StreamedAsync(IAsyncEnumerable<RunStreamEvent> events, TextWriter stdout, HashSet<string> printed)
    {
        var writtenText = new System.Text.StringBuilder();
        string? lastMessageId = null;
        RunFinishedEvent? finished = null;
        await foreach (var e in events.ConfigureAwait(false))
        {
            switch (e)
            {
                case ToolCallCompletedEvent { Record: { } record } when printed.Add(record.ToolCallId):
                    stdout.WriteLine(ToolLine(record));
                    break;
                case TextDeltaEvent text:
                    if (writtenText.Length == 0)
                    {
                        stdout.Write("assistant: ");
                    }
                    else if (text.MessageId != lastMessageId)
                    {
                        stdout.Write('\n');
                    }

                    lastMessageId = text.MessageId;
                    stdout.Write(text.Text);
                    writtenText.Append(text.Text);
                    stdout.Flush();
                    break;
                case RunFinishedEvent end:
                    finished = end;
                    break;
            }
        }

        if (finished?.Result is { IsAwaitingApproval: true } paused)
        {
            if (writtenText.Length > 0)
            {
                stdout.WriteLine(); // text before the pause; the rest of the reply comes once the approvals are decided
            }

            return paused;
        }

        if (finished?.Error is { } error)
        {
            if (writtenText.Length > 0)
            {
                stdout.WriteLine();
            }

            throw new RunFailedException(error, finished.ThreadId, finished.RunId ?? string.Empty);
        }

        if (writtenText.Length == 0)
        {
            stdout.Write("assistant: ");
        }

        stdout.WriteLine();
        return finished?.Result ?? throw new InvalidOperationException("The run stream ended without a final event.");
    }

    private static string ToolLine(ToolCallRecord call) => $"tool {call.Name} {call.ArgumentsJson} -> {call.Output}";

    private static ServiceProvider BuildServices(SampleConnection connection, TextWriter stderr)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new TextWriterLoggerProvider(stderr, LogLevel.Warning)));
        services.AddSingleton(connection.Configuration);
        services.AddSingleton<OrderBook>();
        services.AddAssistantsKit(connection.Configuration)
            .AddTools<OrderTools>()
            .AddSqliteStore(Path.Combine(connection.StateDirectory, "conversations.db"));
        services.AddAssistantsKit(options =>
        {
            connection.Apply(options, DefaultModel);
            options.Assistant.Name = "order-support";
            options.Assistant.Instructions ??= OrderSupportScript.Instructions;
        });
        return services.BuildServiceProvider();
    }
}
