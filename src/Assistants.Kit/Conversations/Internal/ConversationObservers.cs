using Assistants.Kit.Diagnostics.Internal;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Conversations.Internal;

/// <summary>Raises observer events; an observer that throws is logged and never breaks a run.</summary>
internal sealed class ConversationObservers
{
    private readonly IConversationObserver[] _observers;
    private readonly ILogger _logger;

    public ConversationObservers(IEnumerable<IConversationObserver> observers, ILogger<ConversationObservers> logger)
    {
        _observers = [.. observers];
        _logger = logger;
    }

    public ValueTask ThreadCreatedAsync(ConversationThreadEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnThreadCreatedAsync), o => o.OnThreadCreatedAsync(e, cancellationToken));

    public ValueTask ThreadRolledOverAsync(ConversationThreadEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnThreadRolledOverAsync), o => o.OnThreadRolledOverAsync(e, cancellationToken));

    public ValueTask RunStartedAsync(ConversationRunEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnRunStartedAsync), o => o.OnRunStartedAsync(e, cancellationToken));

    public ValueTask RunFinishedAsync(ConversationRunEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnRunFinishedAsync), o => o.OnRunFinishedAsync(e, cancellationToken));

    public ValueTask ToolCallNotReexecutedAsync(ToolCallNotReexecutedEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnToolCallNotReexecutedAsync), o => o.OnToolCallNotReexecutedAsync(e, cancellationToken));

    public ValueTask ContextPressureAsync(ContextPressureEvent e, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnContextPressureAsync), o => o.OnContextPressureAsync(e, cancellationToken));

    public ValueTask ApprovalRequestedAsync(ToolApproval approval, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnApprovalRequestedAsync), o => o.OnApprovalRequestedAsync(approval, cancellationToken));

    public ValueTask ApprovalDecidedAsync(ToolApproval approval, TimeSpan waited, CancellationToken cancellationToken) =>
        RaiseAsync(nameof(IConversationObserver.OnApprovalDecidedAsync), o => o.OnApprovalDecidedAsync(approval, waited, cancellationToken));

    private async ValueTask RaiseAsync(string name, Func<IConversationObserver, ValueTask> raise)
    {
        foreach (var observer in _observers)
        {
            try
            {
                await raise(observer).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // An app's observer must never break a run: any exception is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                KitLog.ObserverFailed(_logger, ex, observer.GetType().Name, name);
            }
        }
    }
}
