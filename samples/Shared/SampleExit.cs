using Assistants.Kit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Samples;

/// <summary>The samples' exit codes (see the sample contract) and how the kit's exceptions map onto them.</summary>
internal static class SampleExit
{
    /// <summary>The run completed.</summary>
    public const int Completed = 0;

    /// <summary>The run ended otherwise: failed, cancelled, expired, incomplete, stopped by the kit.</summary>
    public const int RunNotCompleted = 1;

    /// <summary>Usage or configuration error.</summary>
    public const int Usage = 2;

    /// <summary>Server or transport error after retries.</summary>
    public const int ServerError = 3;

    /// <summary>Refused by a budget before anything was sent.</summary>
    public const int Budget = 4;

    /// <summary>
    /// Whether an exception thrown while the kit's services are resolved is a configuration error (exit 2): a value that
    /// fails the kit's validation, or one the configuration binder cannot convert (<c>AssistantsKit__Polling__Timeout=abc</c>).
    /// </summary>
    /// <param name="exception">What resolving the services threw.</param>
    /// <returns><see langword="true"/> for a configuration error.</returns>
    public static bool IsConfigurationError(Exception exception) =>
        exception is OptionsValidationException
        || (exception is InvalidOperationException { TargetSite.DeclaringType: { } thrower } && thrower == typeof(ConfigurationBinder));

    /// <summary>Whether <paramref name="exception"/> is one of the outcomes every sample reports the same way.</summary>
    /// <param name="exception">What the run threw.</param>
    /// <param name="cancellationToken">The sample's token (Ctrl+C).</param>
    /// <returns><see langword="true"/> when <see cref="Report"/> knows it.</returns>
    public static bool IsRunOutcome(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        RunFailedException or RunTimeoutException or BudgetExceededException or AssistantsServerException => true,
        OperationCanceledException => cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Writes the outcome's line to stderr (never the API key: the kit's messages do not carry it).</summary>
    /// <param name="exception">An exception for which <see cref="IsRunOutcome"/> was <see langword="true"/>.</param>
    /// <param name="stderr">Where diagnostics go.</param>
    /// <returns>The exit code.</returns>
    public static int Report(Exception exception, TextWriter stderr)
    {
        switch (exception)
        {
            case RunFailedException failed:
                stderr.WriteLine($"run failed: {failed.Code}: {failed.Error.Message}");
                return RunNotCompleted;
            case RunTimeoutException timeout:
                stderr.WriteLine($"run timed out: {timeout.Message}");
                return RunNotCompleted;
            case BudgetExceededException budget:
                stderr.WriteLine($"refused by budget: {budget.Message}");
                return Budget;
            case AssistantsServerException server:
                stderr.WriteLine($"server error: {server.Message}");
                return ServerError;
            default:
                stderr.WriteLine("run cancelled: interrupted (the run was cancelled on the server)");
                return RunNotCompleted;
        }
    }
}
