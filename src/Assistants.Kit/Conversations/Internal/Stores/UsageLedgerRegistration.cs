using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Conversations.Internal.Stores;

/// <summary>
/// Puts a durable store's ledger in the <see cref="IUsageLedger"/> slot, following one rule (shared by the store
/// packages): the slot is taken over when it is empty, holds the core's in-memory default, or holds the ledger of a
/// kit store package registered earlier (so the last store registered wins, as for <see cref="IConversationStore"/>).
/// A ledger the application registered itself (<c>UseUsageLedger</c>, or any other registration) is never replaced;
/// <c>UseUsageLedger</c> called after the store replaces the store's ledger in turn. Whether the store's ledger is
/// used is decided when <see cref="IUsageLedger"/> is first resolved, from the store's options: when its
/// <c>UseAsUsageLedger</c> is <see langword="false"/>, the slot resolves to what it held before (a ledger of another
/// store, or a new <see cref="InMemoryUsageLedger"/>).
/// </summary>
internal static class UsageLedgerRegistration
{
    public static void Register(IServiceCollection services, Func<IServiceProvider, bool> useStoreLedger, Func<IServiceProvider, IUsageLedger> storeLedger)
    {
        var current = services.LastOrDefault(static d => d.ServiceType == typeof(IUsageLedger) && !d.IsKeyedService);
        if (current is not null && !IsReplaceable(current))
        {
            return;
        }

        var previous = current?.ImplementationFactory;
        foreach (var registered in services.Where(static d => d.ServiceType == typeof(IUsageLedger) && !d.IsKeyedService).ToArray())
        {
            services.Remove(registered);
        }

        services.AddSingleton<IUsageLedger>(new StoreLedgerFactory(useStoreLedger, storeLedger, previous).Create);
    }

    private static bool IsReplaceable(ServiceDescriptor descriptor) =>
        descriptor.ImplementationType == typeof(InMemoryUsageLedger) || descriptor.ImplementationFactory?.Target is StoreLedgerFactory;

    /// <summary>A store's ledger registration (recognisable, so a later store registration may replace it).</summary>
    private sealed class StoreLedgerFactory(
        Func<IServiceProvider, bool> useStoreLedger,
        Func<IServiceProvider, IUsageLedger> storeLedger,
        Func<IServiceProvider, object>? previous)
    {
        public IUsageLedger Create(IServiceProvider services) => useStoreLedger(services)
            ? storeLedger(services)
            : previous is not null ? (IUsageLedger)previous(services) : new InMemoryUsageLedger();
    }
}
