using System.ClientModel;
using Assistants.Kit.Diagnostics.Internal;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// Makes the kit's writes duplicate-free. A POST that fails ambiguously (5xx, 408, timeout, a connection dropped after
/// the request was sent) may have landed: the reconciler looks for it (by the kit operation ID the write carries) and
/// adopts it, and sends it again only when it is not there.
/// </summary>
internal sealed class WriteReconciler
{
    /// <summary>The metadata key that carries the kit's operation ID on messages and runs.</summary>
    public const string OperationIdKey = "kit_op";

    private const int MaxAttempts = 3;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    private readonly KitTelemetry? _telemetry;

    public WriteReconciler(ILogger logger, TimeProvider timeProvider, KitTelemetry? telemetry = null)
    {
        _logger = logger;
        _timeProvider = timeProvider;
        _telemetry = telemetry;
    }

    public static string NewOperationId() => "op_" + Guid.NewGuid().ToString("N");

    public async Task<T> ExecuteAsync<T>(
        string operation,
        string path,
        string operationId,
        Func<CancellationToken, Task<T>> send,
        Func<CancellationToken, Task<T?>> find,
        Func<T, string> idOf,
        CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await send(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsAmbiguous(ex, cancellationToken) && attempt < MaxAttempts)
            {
                KitLog.ReconcilingWrite(_logger, operation, path, Describe(ex), operationId);
            }

            var found = await find(cancellationToken).ConfigureAwait(false);
            if (found is not null)
            {
                KitLog.AdoptedWrite(_logger, operation, operationId, idOf(found));
                _telemetry?.Reconciliations.Add(1, new KeyValuePair<string, object?>("assistants_kit.reconciliation.outcome", "adopted"));
                return found;
            }

            KitLog.ResendingWrite(_logger, operation, operationId, attempt + 1);
            _telemetry?.Reconciliations.Add(1, new KeyValuePair<string, object?>("assistants_kit.reconciliation.outcome", "resent"));
            await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether a failed write may nevertheless have taken effect on the server.</summary>
    public static bool IsAmbiguous(Exception exception, CancellationToken callerToken) => exception switch
    {
        ClientResultException { Status: 0 } => true,
        ClientResultException { Status: 408 } => true,
        ClientResultException cre => cre.Status >= 500,
        HttpRequestException or IOException or TimeoutRejectedException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };

    private static string Describe(Exception exception) => exception switch
    {
        ClientResultException { Status: > 0 } cre => "HTTP " + cre.Status,
        ClientResultException => "no response",
        TimeoutRejectedException or OperationCanceledException => "timeout",
        _ => exception.GetType().Name,
    };
}
