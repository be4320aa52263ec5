using System.Globalization;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Files.Internal;

/// <summary>Validates <see cref="AssistantFilesOptions"/>; every message names the option and the bad value.</summary>
internal sealed class AssistantFilesOptionsValidator : IValidateOptions<AssistantFilesOptions>
{
    public ValidateOptionsResult Validate(string? name, AssistantFilesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Processing is not { } processing)
        {
            return ValidateOptionsResult.Fail("AssistantFilesOptions.Processing must not be null.");
        }

        if (processing.InitialDelay <= TimeSpan.Zero)
        {
            failures.Add(Invariant($"AssistantFilesOptions.Processing.InitialDelay '{processing.InitialDelay}' must be positive."));
        }

        if (processing.MaxDelay < processing.InitialDelay)
        {
            failures.Add(Invariant($"AssistantFilesOptions.Processing.MaxDelay '{processing.MaxDelay}' must not be shorter than InitialDelay '{processing.InitialDelay}'."));
        }

        if (double.IsNaN(processing.BackoffFactor) || processing.BackoffFactor < 1)
        {
            failures.Add(Invariant($"AssistantFilesOptions.Processing.BackoffFactor '{processing.BackoffFactor}' must be at least 1."));
        }

        if (double.IsNaN(processing.Jitter) || processing.Jitter is < 0 or >= 1)
        {
            failures.Add(Invariant($"AssistantFilesOptions.Processing.Jitter '{processing.Jitter}' must be in [0, 1)."));
        }

        if (processing.Timeout <= TimeSpan.Zero)
        {
            failures.Add(Invariant($"AssistantFilesOptions.Processing.Timeout '{processing.Timeout}' must be positive."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
