using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Testing;

/// <summary>Options of the <see cref="AssistantsEmulator"/>. Durations are read whenever a run needs them.</summary>
public sealed class AssistantsEmulatorOptions
{
    /// <summary>
    /// Gets or sets the API key requests must carry as <c>Authorization: Bearer …</c>; <see langword="null"/> (the
    /// default) accepts any key or none. A wrong key gets 401 <c>invalid_api_key</c> with the key masked, as the real
    /// service answers.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets a file to keep the state in: loaded at start when it exists, written atomically (a temporary file,
    /// then a rename) after every request that changed something. <see langword="null"/> (the default) keeps the state
    /// in memory only. Scripts, faults and the request log are not persisted.
    /// </summary>
    public string? StatePath { get; set; }

    /// <summary>
    /// Gets or sets the clock of everything time-dependent: timestamps, run progression, expiry, fault delays and
    /// streaming waits. With <c>FakeTimeProvider</c> a test advances time instead of sleeping.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets how long a run stays <c>queued</c> (after creation and after tool outputs are submitted), and a
    /// background response after its creation. Default 0: <c>create</c> answers <c>queued</c> and the next read sees the
    /// run or response already moved on.
    /// </summary>
    public TimeSpan QueuedDuration { get; set; }

    /// <summary>
    /// Gets or sets how long each model step stays <c>in_progress</c> (default 0): a run step, or one response (a
    /// foreground request answers after that time on <see cref="TimeProvider"/>); a script can override it per run or turn.
    /// </summary>
    public TimeSpan InProgressDuration { get; set; }

    /// <summary>
    /// Gets or sets the time from a run's creation to its <c>expires_at</c> (default 10 minutes, as on the real service):
    /// a run still waiting for tool outputs then becomes <c>expired</c>. (Responses do not expire: pending function calls
    /// wait for their outputs indefinitely.)
    /// </summary>
    public TimeSpan RequiresActionTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how long a cancelled run stays <c>cancelling</c> before it is <c>cancelled</c> (default 0; a cancelled response is <c>cancelled</c> at once, as recorded).</summary>
    public TimeSpan CancellingDuration { get; set; }

    /// <summary>
    /// Gets or sets the value of an <c>openai-poll-after-ms</c> header added to responses that return a run (GET run,
    /// create run, create thread and run, submit tool outputs, cancel); <see langword="null"/> (the default) sends none.
    /// </summary>
    public TimeSpan? PollAfter { get; set; }

    /// <summary>
    /// Gets or sets whether Assistants requests must carry <c>OpenAI-Beta: assistants=v2</c>, as on the real service
    /// (default <see langword="true"/>). Without it the emulator answers 400 like the service does. Responses and
    /// Conversations requests never need it.
    /// </summary>
    public bool RequireBetaHeader { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a file added to a vector store stays <c>in_progress</c> before it is <c>completed</c> (or
    /// <c>failed</c>; see <see cref="EmulatorScript.FailFileProcessing(string, string, string?)"/>). Default 0: the response
    /// that adds a file still shows it <c>in_progress</c>, as the service does, and the next read sees it processed.
    /// </summary>
    public TimeSpan FileProcessingDuration { get; set; }

    /// <summary>Gets or sets where the emulator logs (request failures, script exceptions); <see langword="null"/> logs nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
