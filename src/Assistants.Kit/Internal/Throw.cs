using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Assistants.Kit.Internal;

/// <summary>Argument checks, one per line: <c>_ = Throw.IfNull(x);</c>.</summary>
internal static class Throw
{
    public static T IfNull<T>([NotNull] T? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(argument, paramName);
        return argument;
    }

    public static string IfNullOrWhiteSpace([NotNull] string? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(argument, paramName);
        return argument;
    }

    public static int IfLessThan(int argument, int min, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(argument, min, paramName);
        return argument;
    }

    public static TimeSpan IfNegative(TimeSpan argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(argument, TimeSpan.Zero, paramName);
        return argument;
    }
}
