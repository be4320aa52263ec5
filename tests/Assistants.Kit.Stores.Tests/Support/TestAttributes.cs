using Xunit.Abstractions;
using Xunit.Sdk;

namespace Assistants.Kit.Stores.Tests.Support;

/// <summary>A fact that needs a Redis server: skipped, with the reason, when <see cref="RedisServer"/> finds none.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    /// <summary>Initializes a new instance of the <see cref="RedisFactAttribute"/> class.</summary>
    public RedisFactAttribute()
    {
        if (RedisServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Marks a test class whose facts all need a Redis server (used by <see cref="StoreFactAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresRedisAttribute : Attribute;

/// <summary>
/// A fact of the store contract suite. The suite is declared once, on an abstract class, and runs once per store (one
/// derived class each); an attribute on a method cannot know which class runs it, so the skip decision is taken by
/// <see cref="StoreFactDiscoverer"/>, which sees the concrete class: a class marked <see cref="RequiresRedisAttribute"/>
/// is skipped when no Redis server answers.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("Assistants.Kit.Stores.Tests.Support.StoreFactDiscoverer", "Assistants.Kit.Stores.Tests")]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>Discovers <see cref="StoreFactAttribute"/> tests as <see cref="StoreTestCase"/>s.</summary>
public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc />
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new StoreTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case skipped when its class needs Redis and none answers; the reason is recomputed after deserialization.</summary>
public sealed class StoreTestCase : XunitTestCase
{
    /// <summary>Initializes a new instance of the <see cref="StoreTestCase"/> class, for the deserializer.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public StoreTestCase()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="StoreTestCase"/> class.</summary>
    public StoreTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, displayOptions, testMethod)
    {
    }

    /// <inheritdoc />
    protected override string GetSkipReason(IAttributeInfo factAttribute) =>
        base.GetSkipReason(factAttribute)
        ?? (TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresRedisAttribute)).Any() ? RedisServer.SkipReason! : null!);
}
