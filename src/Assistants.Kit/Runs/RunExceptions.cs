namespace Assistants.Kit;

/// <summary>Base type of the kit's exceptions. Messages never contain credentials.</summary>
public class AssistantsKitException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="AssistantsKitException"/> class.</summary>
    public AssistantsKitException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AssistantsKitException"/> class.</summary>
    /// <param name="message">The message.</param>
    public AssistantsKitException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AssistantsKitException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public AssistantsKitException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Thrown when a run ends <c>failed</c>; carries the run's <c>last_error</c> and IDs.</summary>
public sealed class RunFailedException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="RunFailedException"/> class.</summary>
    /// <param name="error">The run's last error.</param>
    /// <param name="threadId">The thread ID.</param>
    /// <param name="runId">The run ID.</param>
    /// <param name="attempts">How many runs were made (more than one when the re-run policy retried).</param>
    public RunFailedException(RunError error, string threadId, string runId, int attempts = 1)
        : base($"Run {runId} on {threadId} failed: {error.Code}: {error.Message}")
    {
        Error = error;
        ThreadId = threadId;
        RunId = runId;
        Attempts = attempts;
    }

    /// <summary>Gets the run's last error.</summary>
    public RunError Error { get; }

    /// <summary>Gets the error code (<c>server_error</c>, <c>rate_limit_exceeded</c>, <c>invalid_prompt</c>).</summary>
    public string Code => Error.Code;

    /// <summary>Gets the thread ID.</summary>
    public string ThreadId { get; }

    /// <summary>Gets the ID of the last failed run.</summary>
    public string RunId { get; }

    /// <summary>Gets how many runs were made.</summary>
    public int Attempts { get; }
}

/// <summary>Thrown when a run does not end within <see cref="RunPollingOptions.Timeout"/>; the run was cancelled.</summary>
public sealed class RunTimeoutException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="RunTimeoutException"/> class.</summary>
    /// <param name="threadId">The thread ID.</param>
    /// <param name="runId">The run ID.</param>
    /// <param name="timeout">The deadline that passed.</param>
    /// <param name="lastStatus">The last status seen.</param>
    public RunTimeoutException(string threadId, string runId, TimeSpan timeout, RunStatus lastStatus)
        : base($"Run {runId} on {threadId} did not end within {timeout} (last status {lastStatus.ToWireString()}); it was cancelled.")
    {
        ThreadId = threadId;
        RunId = runId;
        Timeout = timeout;
        LastStatus = lastStatus;
    }

    /// <summary>Gets the thread ID.</summary>
    public string ThreadId { get; }

    /// <summary>Gets the run ID.</summary>
    public string RunId { get; }

    /// <summary>Gets the deadline that passed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets the last status seen.</summary>
    public RunStatus LastStatus { get; }
}

/// <summary>
/// Thrown when the server answers with an error the kit cannot handle (after the retry layer gave up): 401/403,
/// unexpected 4xx/5xx. Carries the status and the server's message — never the API key.
/// </summary>
public sealed class AssistantsServerException : AssistantsKitException
{
    /// <summary>Initializes a new instance of the <see cref="AssistantsServerException"/> class.</summary>
    /// <param name="status">The HTTP status (0 when no response was received).</param>
    /// <param name="errorCode">The server's error code, if any.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public AssistantsServerException(int status, string? errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>Gets the HTTP status (0 when no response was received).</summary>
    public int Status { get; }

    /// <summary>Gets the server's error code (e.g. <c>invalid_api_key</c>), if any.</summary>
    public string? ErrorCode { get; }
}
