using Assistants.Kit.Diagnostics.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Assistants.Kit;

/// <summary>Registers the approval expiry service.</summary>
public static class ApprovalKitBuilderExtensions
{
    /// <summary>
    /// Runs a hosted service that, per <see cref="ApprovalOptions.ExpiryPolicy"/>, rejects the call or cancels the run
    /// <see cref="ApprovalOptions.ExpiryMargin"/> before a pending approval would expire (on the Assistants protocol a run
    /// waiting for tool outputs expires after about 10 minutes). Without it, an undecided approval simply expires.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The builder.</returns>
    public static IAssistantsKitBuilder AddApprovalExpiryService(this IAssistantsKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService<ApprovalExpiryService>();
        return builder;
    }
}

/// <summary>Acts on approvals about to expire (see <see cref="ApprovalKitBuilderExtensions.AddApprovalExpiryService"/>).</summary>
internal sealed class ApprovalExpiryService(AssistantRunner runner, IOptions<AssistantsKitOptions> options, TimeProvider timeProvider, ILogger<ApprovalExpiryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var approvals = options.Value.Approvals;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(approvals, stoppingToken).ConfigureAwait(false);
                await Task.Delay(approvals.ScanInterval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed sweep is logged and retried at the next interval; the service must keep running.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                KitLog.ApprovalSweepFailed(logger, ex);
                await Task.Delay(approvals.ScanInterval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    internal async Task SweepAsync(ApprovalOptions approvals, CancellationToken cancellationToken)
    {
        if (approvals.ExpiryPolicy == ApprovalExpiryPolicy.None)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        foreach (var approval in await runner.GetPendingApprovalsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (approval.ExpiresAt is not { } expires || expires - approvals.ExpiryMargin > now)
            {
                continue;
            }

            try
            {
                // On Responses nothing waits on the server (the response that asked for the tool has finished), so
                // there is no run to cancel: the call is rejected and the model is told.
                if (approvals.ExpiryPolicy == ApprovalExpiryPolicy.AutoReject || approval.Protocol == AssistantsProtocol.Responses)
                {
                    await runner.RejectAsync(approval.ApprovalId, "nobody decided in time", cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await runner.AttachRun(approval.ThreadId, approval.RunId, approval.ConversationKey).CancelAsync(cancellationToken).ConfigureAwait(false);
                    await CloseAsync(approval, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is ApprovalAlreadyDecidedException or ApprovalExpiredException or ApprovalNotFoundException or AssistantsServerException)
            {
                KitLog.ApprovalSweepSkipped(logger, approval.ToolCallId, ex.Message);
            }
        }
    }

    /// <summary>
    /// After the run was cancelled: a decision on a run that no longer waits closes the approval as expired (no longer
    /// pending; observers and metrics are told; nothing runs, nothing is submitted).
    /// </summary>
    private async Task CloseAsync(ToolApproval approval, CancellationToken cancellationToken)
    {
        try
        {
            await runner.RejectAsync(approval.ApprovalId, "the run was cancelled before anyone decided", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (ApprovalExpiredException)
        {
            // The expected outcome: closed as expired.
        }
    }
}
