namespace Assistants.Kit.Stores.Tests.Support;

/// <summary>Time zones built in code, so tests do not depend on the machine's time zone database.</summary>
internal static class TestZones
{
    /// <summary>
    /// Central European time as the EU defines it: +01:00, and +02:00 from the last Sunday of March (02:00) to the last
    /// Sunday of October (03:00).
    /// </summary>
    public static TimeZoneInfo CentralEurope { get; } = TimeZoneInfo.CreateCustomTimeZone(
        "Test/CentralEurope",
        TimeSpan.FromHours(1),
        "Test Central Europe",
        "Test Central Europe (standard)",
        "Test Central Europe (summer)",
        [
            TimeZoneInfo.AdjustmentRule.CreateAdjustmentRule(
                new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified),
                new DateTime(2099, 12, 31, 0, 0, 0, DateTimeKind.Unspecified),
                TimeSpan.FromHours(1),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0, DateTimeKind.Unspecified), 3, 5, DayOfWeek.Sunday),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0, DateTimeKind.Unspecified), 10, 5, DayOfWeek.Sunday)),
        ]);
}
