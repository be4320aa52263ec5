using System.Globalization;
using Assistants.Kit.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Benchmarks.Experimental;

/// <summary>
/// EXPERIMENT (bench only, never shipped): a copy of the kit's <c>ToolCallExecutor</c> with the per-call overhead cut,
/// to measure the proposed fix for the dispatch overhead. Changes, all marked <c>EXPERIMENT</c>: a round of one call runs
/// its handler inline on the caller's thread (no <c>Task.Run</c> hop) and skips the round machinery (distinct-ID set,
/// <c>Task.WhenEach</c>, the record list); the handler's token is the timeout token itself when the caller's token cannot
/// be cancelled (no linked source). Rounds of two or more calls are unchanged (each call on the thread pool, so a
/// blocking handler never delays the others).
/// Executes the tool calls of one round: concurrently up to <see cref="ToolOptions.MaxConcurrentCalls"/>, each with
/// <see cref="ToolOptions.PerCallTimeout"/>, turning every failure into an error output (see <see cref="ToolOutputs"/>).
/// Only the caller's cancellation escapes, as <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class InlineToolCallExecutor : IToolCallExecutor
{
    private readonly ToolRegistry _registry;
    private readonly ToolOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public InlineToolCallExecutor(ToolRegistry registry, TimeProvider timeProvider, ILogger<ToolCallExecutor> logger)
    {
        _registry = Throw.IfNull(registry);
        _options = registry.Options;
        _timeProvider = Throw.IfNull(timeProvider);
        _logger = Throw.IfNull(logger);
    }

    public IReadOnlyList<FunctionToolSpec> Tools => _registry.Specs;

    public IReadOnlyList<FunctionToolSpec> GetTools(IEnumerable<string> names) => _registry.GetSpecs(Throw.IfNull(names));

    public ToolPolicy GetPolicy(string name) => _registry.PolicyFor(Throw.IfNull(name));

    public async Task<IReadOnlyList<ToolCallRecord>> ExecuteAsync(
        IReadOnlyList<ToolCallRequest> calls,
        ToolExecutionScope scope,
        CancellationToken cancellationToken)
    {
        _ = Throw.IfNull(calls);
        _ = Throw.IfNull(scope);
        cancellationToken.ThrowIfCancellationRequested();
        if (calls.Count == 0)
        {
            return [];
        }

        // EXPERIMENT: one call (the common round) needs no ID set, no WhenEach, no list — and runs inline.
        if (calls.Count == 1)
        {
            _ = Throw.IfNull(calls[0], nameof(calls));
            var only = await ExecuteOneAsync(calls[0], scope, null, inline: true, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return [only];
        }

        EnsureDistinctIds(calls);

        // Not disposed: a call abandoned by the caller's cancellation may still release it afterwards.
        SemaphoreSlim? slots = calls.Count > _options.MaxConcurrentCalls
            ? new SemaphoreSlim(_options.MaxConcurrentCalls, _options.MaxConcurrentCalls)
            : null;

        var pending = new Task<ToolCallRecord>[calls.Count];
        for (int i = 0; i < pending.Length; i++)
        {
            pending[i] = ExecuteOneAsync(calls[i], scope, slots, inline: false, cancellationToken);
        }

        var records = new List<ToolCallRecord>(pending.Length);
        await foreach (Task<ToolCallRecord> completed in Task.WhenEach(pending).ConfigureAwait(false))
        {
            records.Add(await completed.ConfigureAwait(false));
        }

        // Cancelled as the last handler finished: the caller asked to stop, so no outputs are handed back.
        cancellationToken.ThrowIfCancellationRequested();
        return records;
    }

    private static void EnsureDistinctIds(IReadOnlyList<ToolCallRequest> calls)
    {
        var ids = new HashSet<string>(calls.Count, StringComparer.Ordinal);
        foreach (ToolCallRequest call in calls)
        {
            _ = Throw.IfNull(call, nameof(calls));
            if (!ids.Add(call.ToolCallId))
            {
                throw new ArgumentException($"The tool call ID '{call.ToolCallId}' appears more than once in one round.", nameof(calls));
            }
        }
    }

    private async Task<ToolCallRecord> ExecuteOneAsync(
        ToolCallRequest call, ToolExecutionScope scope, SemaphoreSlim? slots, bool inline, CancellationToken cancellationToken)
    {
        if (slots is not null)
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            long started = _timeProvider.GetTimestamp();
            (string output, ToolCallStatus status) = await RunAsync(call, scope, inline, cancellationToken).ConfigureAwait(false);
            TimeSpan duration = _timeProvider.GetElapsedTime(started);

            if (output.Length > _options.MaxOutputLength)
            {
                ToolsLog.OutputTruncated(_logger, call.Name, call.ToolCallId, output.Length, _options.MaxOutputLength);
                output = ToolOutput.Truncate(output, _options.MaxOutputLength);
            }

            if (status == ToolCallStatus.Succeeded)
            {
                ToolsLog.Succeeded(_logger, call.Name, call.ToolCallId, duration.TotalMilliseconds);
            }

            return new ToolCallRecord(call.ToolCallId, call.Name, call.ArgumentsJson, output, status, duration);
        }
        finally
        {
            _ = slots?.Release();
        }
    }

    private async Task<(string Output, ToolCallStatus Status)> RunAsync(
        ToolCallRequest call, ToolExecutionScope scope, bool inline, CancellationToken cancellationToken)
    {
        if (!_registry.TryGet(call.Name, out ToolDescriptor? tool) || scope.EnabledTools?.Contains(call.Name) == false)
        {
            ToolsLog.UnknownTool(_logger, call.Name, call.ToolCallId);
            string available = scope.EnabledTools is { } enabled
                ? string.Join(", ", _registry.Tools.Select(t => t.Name).Where(enabled.Contains))
                : _registry.DescribeNames();
            return (Error(ToolErrorTypes.UnknownTool, $"No tool named '{call.Name}' is available. Available tools: {available}."),
                ToolCallStatus.UnknownTool);
        }

        if (!ToolArgumentBinder.TryBind(tool, call.ArgumentsJson, out AIFunctionArguments arguments, out string? problem))
        {
            ToolsLog.InvalidArguments(_logger, call.Name, call.ToolCallId, problem);
            return (Error(ToolErrorTypes.InvalidArguments, problem), ToolCallStatus.InvalidArguments);
        }

        arguments.Services = scope.Services;
        arguments.Context = new Dictionary<object, object?>
        {
            [ToolCallContextBinding.ContextKey] = new ToolCallContext(
                scope.ConversationKey, scope.ThreadId, scope.RunId, call.ToolCallId, call.Name, call.ArgumentsJson),
        };

        ToolsLog.Executing(_logger, call.Name, call.ToolCallId, scope.RunId);
        // EXPERIMENT: inline, the timeout's timer is armed only when the handler did not complete synchronously.
        using var timeout = new CancellationTokenSource(inline ? Timeout.InfiniteTimeSpan : _options.PerCallTimeout, _timeProvider);
        // EXPERIMENT: no linked source when the caller's token can never be cancelled.
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token) : null;
        CancellationToken handlerToken = linked?.Token ?? timeout.Token;
        AIFunction function = tool.Function;

        // EXPERIMENT: inline for a round of one call (a synchronous handler then runs to completion on the caller's
        // thread; an asynchronous one returns at its first await and the timeout applies from there). Otherwise on the
        // thread pool, so a handler that blocks can neither delay the other calls nor outlive its timeout.
        Task<object?> invocation;
        if (inline)
        {
            try
            {
                invocation = function.InvokeAsync(arguments, handlerToken).AsTask();
            }
#pragma warning disable CA1031 // Same as the awaited path below: a handler failure becomes an error output.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                invocation = Task.FromException<object?>(ex);
            }

            if (!invocation.IsCompleted)
            {
                timeout.CancelAfter(_options.PerCallTimeout);
            }
        }
        else
        {
            invocation = Task.Run(() => function.InvokeAsync(arguments, handlerToken).AsTask(), CancellationToken.None);
        }
        try
        {
            object? result = await invocation.WaitAsync(handlerToken).ConfigureAwait(false);
            return (ToolOutput.FormatInvocationResult(result, _options.SerializerOptions), ToolCallStatus.Succeeded);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ObserveAbandoned(invocation, call);
            ToolsLog.Canceled(_logger, call.Name, call.ToolCallId);
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            ObserveAbandoned(invocation, call);
            ToolsLog.TimedOut(_logger, call.Name, call.ToolCallId, _options.PerCallTimeout);
            return (Error(ToolErrorTypes.Timeout, $"The tool did not complete within {DescribeTimeout(_options.PerCallTimeout)}."),
                ToolCallStatus.TimedOut);
        }
        catch (Exception ex)
        {
            ToolsLog.HandlerFailed(_logger, ex, call.Name, call.ToolCallId);
            return _options.IncludeExceptionDetails
                ? (Error(ToolErrorTypes.HandlerException, ex.Message, ex.GetType().FullName), ToolCallStatus.HandlerException)
                : (Error(ToolErrorTypes.HandlerException, "The tool failed while handling the call."), ToolCallStatus.HandlerException);
        }
    }

    private string Error(string type, string message, string? exceptionType = null) =>
        ToolOutput.Error(type, message, _options.MaxOutputLength, exceptionType);

    /// <summary>Logs a failure of a handler the call no longer waits for, so it never goes unobserved.</summary>
    private void ObserveAbandoned(Task invocation, ToolCallRequest call) =>
        _ = invocation.ContinueWith(
            (task, state) =>
            {
                if (task.Exception?.GetBaseException() is { } ex and not OperationCanceledException)
                {
                    var abandoned = (ToolCallRequest)state!;
                    ToolsLog.AbandonedHandlerFailed(_logger, ex, abandoned.Name, abandoned.ToolCallId);
                }
            },
            call,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private static string DescribeTimeout(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{timeout.TotalSeconds:0.###} seconds")
            : string.Create(CultureInfo.InvariantCulture, $"{timeout.TotalMilliseconds:0.###} milliseconds");
}
