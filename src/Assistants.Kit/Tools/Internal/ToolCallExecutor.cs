using System.Globalization;
using Assistants.Kit.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Executes the tool calls of one round: concurrently up to <see cref="ToolOptions.MaxConcurrentCalls"/>, each with
/// <see cref="ToolOptions.PerCallTimeout"/>, turning every failure into an error output (see <see cref="ToolOutputs"/>).
/// Only the caller's cancellation escapes, as <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class ToolCallExecutor : IToolCallExecutor
{
    private readonly ToolRegistry _registry;
    private readonly ToolOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public ToolCallExecutor(ToolRegistry registry, TimeProvider timeProvider, ILogger<ToolCallExecutor> logger)
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
        EnsureDistinctIds(calls);
        cancellationToken.ThrowIfCancellationRequested();
        if (calls.Count == 0)
        {
            return [];
        }

        // Not disposed: a call abandoned by the caller's cancellation may still release it afterwards.
        SemaphoreSlim? slots = calls.Count > _options.MaxConcurrentCalls
            ? new SemaphoreSlim(_options.MaxConcurrentCalls, _options.MaxConcurrentCalls)
            : null;

        var pending = new Task<ToolCallRecord>[calls.Count];
        for (int i = 0; i < pending.Length; i++)
        {
            pending[i] = ExecuteOneAsync(calls[i], scope, slots, cancellationToken);
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
        ToolCallRequest call, ToolExecutionScope scope, SemaphoreSlim? slots, CancellationToken cancellationToken)
    {
        if (slots is not null)
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        using var activity = Diagnostics.Internal.KitTelemetry.Source.StartActivity("execute_tool " + call.Name, System.Diagnostics.ActivityKind.Internal);
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.OperationName, "execute_tool");
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.ToolName, call.Name);
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.ToolCallId, call.ToolCallId);
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.ToolType, "function");
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.ConversationId, scope.ThreadId);
        activity?.SetTag(Diagnostics.Internal.KitTelemetry.RunId, scope.RunId);
        if (scope.RecordContent)
        {
            activity?.SetTag(Diagnostics.Internal.KitTelemetry.ToolArguments, call.ArgumentsJson);
        }

        try
        {
            long started = _timeProvider.GetTimestamp();
            (string output, ToolCallStatus status) = await RunAsync(call, scope, cancellationToken).ConfigureAwait(false);
            TimeSpan duration = _timeProvider.GetElapsedTime(started);
            if (status != ToolCallStatus.Succeeded)
            {
                activity?.SetTag(Diagnostics.Internal.KitTelemetry.ErrorType, status.ToString());
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, status.ToString());
            }

            if (output.Length > _options.MaxOutputLength)
            {
                ToolsLog.OutputTruncated(_logger, call.Name, call.ToolCallId, output.Length, _options.MaxOutputLength);
                output = ToolOutput.Truncate(output, _options.MaxOutputLength);
            }

            if (status == ToolCallStatus.Succeeded)
            {
                ToolsLog.Succeeded(_logger, call.Name, call.ToolCallId, duration.TotalMilliseconds);
            }

            if (scope.RecordContent)
            {
                activity?.SetTag(Diagnostics.Internal.KitTelemetry.ToolResult, output);
            }

            return new ToolCallRecord(call.ToolCallId, call.Name, call.ArgumentsJson, output, status, duration);
        }
        finally
        {
            _ = slots?.Release();
        }
    }

    private async Task<(string Output, ToolCallStatus Status)> RunAsync(
        ToolCallRequest call, ToolExecutionScope scope, CancellationToken cancellationToken)
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
        using var timeout = new CancellationTokenSource(_options.PerCallTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        CancellationToken handlerToken = linked.Token;
        AIFunction function = tool.Function;

        // On the thread pool, so a handler that blocks can neither delay the other calls nor outlive its timeout.
        Task<object?> invocation = Task.Run(() => function.InvokeAsync(arguments, handlerToken).AsTask(), CancellationToken.None);
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
