using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Assistants.Kit;

/// <summary>
/// Observes a conversation's lifecycle, e.g. to mirror thread and run IDs into the app's own database. Every method has
/// an empty default implementation; override what you need and register with
/// <see cref="ConversationObserverKitBuilderExtensions.AddConversationObserver{T}(IAssistantsKitBuilder)"/>. Each event is
/// raised once. An observer that throws is logged and does not affect the run.
/// </summary>
public interface IConversationObserver
{
    /// <summary>A new thread (or conversation) was created and bound to a conversation key.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnThreadCreatedAsync(ConversationThreadEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A conversation key moved to a new thread (the old one was gone on the server, or was rolled over).</summary>
    /// <param name="e">The event; <see cref="ConversationThreadEvent.PreviousThreadId"/> is the old thread.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnThreadRolledOverAsync(ConversationThreadEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A run was created.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnRunStartedAsync(ConversationRunEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// A run ended — any status, also <c>failed</c>; when the wait ended early (caller cancellation, timeout) the last
    /// status seen (e.g. <c>cancelling</c>).
    /// </summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnRunFinishedAsync(ConversationRunEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A tool call needs a person's approval; decide with <c>AssistantRunner.ApproveAsync</c> or <c>RejectAsync</c>.</summary>
    /// <param name="approval">The approval.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnApprovalRequestedAsync(ToolApproval approval, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>An approval was decided (approved, rejected) or closed as expired.</summary>
    /// <param name="approval">The approval, with its final state.</param>
    /// <param name="waited">How long it waited.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnApprovalDecidedAsync(ToolApproval approval, TimeSpan waited, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A conversation is under context pressure; with rollover enabled, it rolls over next.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnContextPressureAsync(ContextPressureEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// A run resumed after a crash had a tool call whose output was never journaled, and the tool is not idempotent:
    /// the kit did not run it again (the model got an error output). The app decides whether to run it by hand.
    /// </summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnToolCallNotReexecutedAsync(ToolCallNotReexecutedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>A tool call the kit did not run again when it resumed a run.</summary>
/// <param name="ConversationKey">The application's conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation) ID.</param>
/// <param name="RunId">The run (or response) ID.</param>
/// <param name="ToolCallId">The tool call ID.</param>
/// <param name="ToolName">The tool name.</param>
/// <param name="ArgumentsJson">The arguments.</param>
public sealed record ToolCallNotReexecutedEvent(string ConversationKey, AssistantsProtocol Protocol, string ThreadId, string RunId, string ToolCallId, string ToolName, string ArgumentsJson);

/// <summary>A thread event.</summary>
/// <param name="ConversationKey">The application's conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation) ID.</param>
/// <param name="PreviousThreadId">The thread the key was bound to before (roll-overs only).</param>
/// <param name="Reason">Why: <c>created</c>, <c>not_found</c> (the old thread was gone on the server), or <c>rollover</c>.</param>
public sealed record ConversationThreadEvent(string ConversationKey, AssistantsProtocol Protocol, string ThreadId, string? PreviousThreadId, string Reason);

/// <summary>A run event.</summary>
/// <param name="ConversationKey">The application's conversation key.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ThreadId">The thread (or conversation) ID.</param>
/// <param name="RunId">The run ID.</param>
/// <param name="AssistantId">The assistant ID.</param>
/// <param name="Status">The run's status (its final status for <see cref="IConversationObserver.OnRunFinishedAsync"/>).</param>
public sealed record ConversationRunEvent(string ConversationKey, AssistantsProtocol Protocol, string ThreadId, string RunId, string? AssistantId, RunStatus Status);

/// <summary>Registers conversation observers.</summary>
public static class ConversationObserverKitBuilderExtensions
{
    /// <summary>Registers an observer class (a singleton; several observers may be registered).</summary>
    /// <typeparam name="T">The observer type.</typeparam>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The builder.</returns>
    public static IAssistantsKitBuilder AddConversationObserver<T>(this IAssistantsKitBuilder builder)
        where T : class, IConversationObserver
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationObserver, T>());
        return builder;
    }

    /// <summary>Registers an observer instance.</summary>
    /// <param name="builder">The kit builder.</param>
    /// <param name="observer">The observer.</param>
    /// <returns>The builder.</returns>
    public static IAssistantsKitBuilder AddConversationObserver(this IAssistantsKitBuilder builder, IConversationObserver observer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(observer);
        builder.Services.AddSingleton(observer);
        return builder;
    }
}
