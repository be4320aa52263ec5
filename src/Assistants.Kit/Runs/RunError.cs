namespace Assistants.Kit;

/// <summary>The error a run ended with (the run's <c>last_error</c>).</summary>
/// <param name="Code">The error code: <c>server_error</c>, <c>rate_limit_exceeded</c> or <c>invalid_prompt</c>.</param>
/// <param name="Message">The server's message.</param>
public sealed record RunError(string Code, string Message);
