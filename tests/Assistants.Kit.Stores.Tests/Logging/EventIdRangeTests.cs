using System.Reflection;
using Assistants.Kit;
using Assistants.Kit.Testing;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Stores.Tests.Logging;

/// <summary>
/// Every <see cref="LoggerMessageAttribute"/> of every kit assembly has an event ID that no other message uses, inside
/// the range its group documents (README "Logging and secrets"). The core groups its messages in one class per range;
/// a message declared anywhere else in the core fails here.
/// </summary>
public sealed class EventIdRangeTests
{
    /// <summary>The documented ranges: assembly, the declaring class (null: any class of the assembly), first and last ID.</summary>
    private static readonly (Assembly Assembly, string? Owner, int First, int Last)[] Ranges =
    [
        (typeof(IAssistantsKitBuilder).Assembly, "KitLog", 1000, 1999),
        (typeof(IAssistantsKitBuilder).Assembly, "ToolsLog", 2000, 2999),
        (typeof(IAssistantsKitBuilder).Assembly, "AccountingLog", 3000, 3999),
        (typeof(IAssistantsKitBuilder).Assembly, "FilesLog", 4000, 4999),
        (typeof(IAssistantsKitBuilder).Assembly, "MigrationLog", 5000, 5999),
        (typeof(SqliteStoreOptions).Assembly, null, 6000, 6099),
        (typeof(RedisStoreKitBuilderExtensions).Assembly, null, 6100, 6199),
        (typeof(AssistantsEmulatorOptions).Assembly, null, 7000, 7099),
    ];

    private static IEnumerable<(Assembly Assembly, MethodInfo Method, LoggerMessageAttribute Attribute)> Messages() =>
        Ranges.Select(r => r.Assembly).Distinct()
            .SelectMany(a => a.GetTypes().Select(t => (Assembly: a, Type: t)))
            .SelectMany(x => x.Type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Select(m => (x.Assembly, Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Assembly, x.Method, x.Attribute!));

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}";

    [Fact]
    public void EveryEventId_IsUnique_AcrossAllKitAssemblies()
    {
        var messages = Messages().ToList();
        Assert.True(messages.Count >= 60, $"only {messages.Count} log messages found: is the reflection still seeing them?");

        var duplicates = messages.GroupBy(m => m.Attribute.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => Name(m.Method)))}")
            .ToList();

        Assert.Empty(duplicates);
    }

    [Fact]
    public void EveryEventId_IsInsideItsAssemblysDocumentedRange()
    {
        var outside = Messages()
            .Where(m => !Ranges.Any(r => r.Assembly == m.Assembly
                && (r.Owner is null || r.Owner == m.Method.DeclaringType!.Name)
                && m.Attribute.EventId >= r.First && m.Attribute.EventId <= r.Last))
            .Select(m => $"{m.Attribute.EventId} {Name(m.Method)} ({m.Assembly.GetName().Name})")
            .ToList();

        Assert.Empty(outside);
    }

    [Fact]
    public void EveryKitAssembly_HasLogMessages_InEachOfItsRanges()
    {
        // A range with no message means the table above (or the README line) no longer matches the code.
        var messages = Messages().ToList();
        var empty = Ranges
            .Where(r => !messages.Any(m => m.Assembly == r.Assembly
                && (r.Owner is null || r.Owner == m.Method.DeclaringType!.Name)
                && m.Attribute.EventId >= r.First && m.Attribute.EventId <= r.Last))
            .Select(r => $"{r.Assembly.GetName().Name} {r.Owner} {r.First}-{r.Last}")
            .ToList();

        Assert.Empty(empty);
    }
}
