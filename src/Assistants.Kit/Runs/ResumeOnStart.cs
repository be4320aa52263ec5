using Assistants.Kit.Diagnostics.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit;

/// <summary>Registers crash resume at host start.</summary>
public static class ResumeOnStartKitBuilderExtensions
{
    /// <summary>
    /// Resumes the runs a previous process left in flight (<see cref="AssistantRunner.ResumeAsync"/>) when the host
    /// starts, in the background (start-up is not delayed). Needs a durable conversation store.
    /// </summary>
    /// <param name="builder">The kit builder.</param>
    /// <returns>The builder.</returns>
    public static IAssistantsKitBuilder AddResumeOnStart(this IAssistantsKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService<ResumeHostedService>();
        return builder;
    }
}

/// <summary>Resumes journaled runs in the background once the host started.</summary>
internal sealed class ResumeHostedService(AssistantRunner runner, ILogger<ResumeHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var resumed = await runner.ResumeAsync(stoppingToken).ConfigureAwait(false);
            KitLog.ResumedAtStart(logger, resumed.Count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
#pragma warning disable CA1031 // A failed resume must not bring the host down; it is logged and retried on the next start.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            KitLog.ResumeFailed(logger, ex);
        }
    }
}
