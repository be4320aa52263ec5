using System.Globalization;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Validates <see cref="ToolOptions"/> and, with them, the tool registrations: registered with <c>ValidateOnStart</c>, so a
/// host fails at start, and run on the first resolution of the options otherwise.
/// </summary>
internal sealed class ToolOptionsValidator(ToolRegistryFactory registryFactory) : IValidateOptions<ToolOptions>
{
    /// <summary>The smallest <see cref="ToolOptions.MaxOutputLength"/>: room for any error output.</summary>
    public const int MinOutputLength = 1024;

    // CancellationTokenSource accepts at most uint.MaxValue - 1 milliseconds.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public ValidateOptionsResult Validate(string? name, ToolOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.MaxConcurrentCalls < 1)
        {
            result.AddError(Invariant($"must be at least 1 (was {options.MaxConcurrentCalls})."), nameof(ToolOptions.MaxConcurrentCalls));
        }

        TimeSpan timeout = options.PerCallTimeout;
        if (timeout != Timeout.InfiniteTimeSpan && (timeout <= TimeSpan.Zero || timeout > MaxTimeout))
        {
            result.AddError(Invariant($"must be positive and at most {MaxTimeout}, or Timeout.InfiniteTimeSpan (was {timeout})."), nameof(ToolOptions.PerCallTimeout));
        }

        if (options.MaxOutputLength < MinOutputLength)
        {
            result.AddError(Invariant($"must be at least {MinOutputLength} (was {options.MaxOutputLength})."), nameof(ToolOptions.MaxOutputLength));
        }

        if (options.MaxToolRounds < 1)
        {
            result.AddError(Invariant($"must be at least 1 (was {options.MaxToolRounds})."), nameof(ToolOptions.MaxToolRounds));
        }

        if (options.MaxIdenticalCalls < 2)
        {
            result.AddError(Invariant($"must be at least 2 (was {options.MaxIdenticalCalls})."), nameof(ToolOptions.MaxIdenticalCalls));
        }

        if (options.SerializerOptions is null)
        {
            result.AddError("must not be null.", nameof(ToolOptions.SerializerOptions));
        }
        else if (options.SerializerOptions.TypeInfoResolver is null)
        {
            result.AddError("must have a TypeInfoResolver (for example AIJsonUtilities.DefaultOptions.TypeInfoResolver).", nameof(ToolOptions.SerializerOptions));
        }

        ValidateOptionsResult values = result.Build();
        if (values.Failed)
        {
            return values;
        }

        try
        {
            _ = registryFactory.GetOrBuild(options);
        }
        catch (InvalidOperationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }

        return ValidateOptionsResult.Success;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
