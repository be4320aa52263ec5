using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Configuration;

/// <summary>
/// The kit's public surface exposes no type of the OpenAI library that is marked <see cref="ExperimentalAttribute"/>
/// (the Assistants API types are, in OpenAI 2.x): apps using the kit must not have to suppress OPENAI001.
/// </summary>
public sealed class PublicSurfaceTests
{
    public static TheoryData<string> KitAssemblies => new()
    {
        typeof(AssistantRunner).Assembly.GetName().Name!,
        typeof(Testing.AssistantsEmulator).Assembly.GetName().Name!,
        typeof(SqliteStoreOptions).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(KitAssemblies))]
    public void NoExperimentalOpenAIType_InThePublicSurface(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);

        var leaks = ExperimentalSurface.OpenAITypesIn(assembly);

        Assert.True(leaks.Count == 0, "Experimental OpenAI types in the public surface of " + assemblyName + ":\n" + string.Join("\n", leaks));
    }

    [Fact]
    public void TheCheck_FindsALeak()
    {
        // The probe is a public type of this (test) assembly exposing an experimental OpenAI type in several positions.
        var experimental = typeof(OpenAI.Assistants.AssistantClient);
        Assert.NotNull(experimental.GetCustomAttribute<ExperimentalAttribute>());

        var leaks = ExperimentalSurface.OpenAITypesIn([typeof(LeakProbe), typeof(LeakProbe.Nested)]);

        Assert.Contains(leaks, l => l.Contains("LeakProbe.Client", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Get", StringComparison.Ordinal) && l.Contains("ThreadRun", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Take", StringComparison.Ordinal) && l.Contains("RunCreationOptions", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Changed", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakProbe.Field", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("Nested base type", StringComparison.Ordinal));
        Assert.DoesNotContain(leaks, l => l.Contains("Hidden", StringComparison.Ordinal)); // private members are not surface
    }

#pragma warning disable OPENAI001, CA1051, CA1822, CA1716, CA1720, CS0067, IDE0051, CA1823 // a deliberate leak, to prove the check sees it
    /// <summary>Exposes experimental OpenAI types on purpose.</summary>
    public class LeakProbe
    {
        /// <summary>A field.</summary>
        public OpenAI.Assistants.AssistantThread? Field;

        /// <summary>An event.</summary>
        public event EventHandler<OpenAI.Assistants.MessageCreationOptions>? Changed;

        /// <summary>Gets a property.</summary>
        public OpenAI.Assistants.AssistantClient? Client { get; }

        /// <summary>A generic return.</summary>
        /// <returns>Nothing.</returns>
        public Task<IReadOnlyList<OpenAI.Assistants.ThreadRun>> Get() => Task.FromResult<IReadOnlyList<OpenAI.Assistants.ThreadRun>>([]);

        /// <summary>A by-ref parameter.</summary>
        /// <param name="options">The options.</param>
        protected void Take(ref OpenAI.Assistants.RunCreationOptions options)
        {
        }

        private OpenAI.Assistants.AssistantClient? Hidden() => null;

        /// <summary>A base type.</summary>
        public sealed class Nested : List<OpenAI.Assistants.Assistant>
        {
        }
    }
#pragma warning restore OPENAI001, CA1051, CA1822, CA1716, CA1720, CS0067, IDE0051, CA1823
}
