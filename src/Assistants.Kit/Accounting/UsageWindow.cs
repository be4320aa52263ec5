using System.Globalization;

namespace Assistants.Kit;

/// <summary>A half-open time window <c>[Start, End)</c>.</summary>
/// <param name="Start">The first instant in the window.</param>
/// <param name="End">The first instant after the window.</param>
public readonly record struct UsageWindow(DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>Gets the calendar day or month that contains an instant, beginning at midnight in a time zone.</summary>
    /// <param name="period">A day or a month.</param>
    /// <param name="instant">The instant.</param>
    /// <param name="timeZone">The zone whose midnight starts days and months; <see langword="null"/> means UTC.</param>
    /// <returns>The window, with <see cref="Start"/> and <see cref="End"/> in UTC.</returns>
    public static UsageWindow For(BudgetPeriod period, DateTimeOffset instant, TimeZoneInfo? timeZone = null)
    {
        var zone = timeZone ?? TimeZoneInfo.Utc;
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        DateTime start;
        DateTime end;
        if (period == BudgetPeriod.Month)
        {
            start = new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
            end = start.AddMonths(1);
        }
        else
        {
            start = local.Date;
            end = start.AddDays(1);
        }

        return new UsageWindow(LocalMidnightToUtc(start, zone), LocalMidnightToUtc(end, zone));
    }

    /// <summary>Gets whether an instant is inside the window.</summary>
    /// <param name="instant">The instant.</param>
    /// <returns><see langword="true"/> when <c>Start &lt;= instant &lt; End</c>.</returns>
    public bool Contains(DateTimeOffset instant) => instant >= Start && instant < End;

    /// <inheritdoc />
    public override string ToString() =>
        $"[{Start.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}, {End.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)})";

    private static DateTimeOffset LocalMidnightToUtc(DateTime local, TimeZoneInfo zone)
    {
        // Midnight can fall in a daylight-saving gap (then the day starts when the clocks jump: the standard offset
        // gives exactly that instant) or be ambiguous (then the day starts at its first occurrence: the larger offset).
        TimeSpan offset;
        if (zone.IsAmbiguousTime(local))
        {
            offset = zone.GetAmbiguousTimeOffsets(local).Max();
        }
        else if (zone.IsInvalidTime(local))
        {
            offset = zone.BaseUtcOffset;
        }
        else
        {
            offset = zone.GetUtcOffset(local);
        }

        return new DateTimeOffset(local, offset).ToUniversalTime();
    }
}
