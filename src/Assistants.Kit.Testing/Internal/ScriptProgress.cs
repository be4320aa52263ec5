namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// How far a scripted model has got in one turn: a run (Assistants) or a turn of responses (Responses). Both engines
/// walk the script the same way through <see cref="ScriptProgressExtensions"/>.
/// </summary>
internal interface IScriptProgress
{
    ScriptedRun? Plan { get; set; }

    bool PlanResolved { get; set; }

    int RoundsIssued { get; set; }

    List<ToolCallRecord> QueuedCalls { get; }
}

/// <summary>The scripted model's progression, shared by the Assistants and the Responses engines.</summary>
internal static class ScriptProgressExtensions
{
    /// <summary>
    /// Matches the turn's plan once (from the context it has then). A throwing user predicate must not crash the
    /// emulator: the plan becomes a <c>server_error</c> failure and <paramref name="onScriptFailed"/> is told.
    /// </summary>
    /// <returns><see langword="true"/> when the plan was matched now (the first time).</returns>
    public static bool ResolvePlan(this IScriptProgress progress, EmulatorScript script, Func<EmulatorRunContext> context, Action<Exception> onScriptFailed)
    {
        if (progress.PlanResolved)
        {
            return false;
        }

        progress.PlanResolved = true;
        try
        {
            progress.Plan = script.Match(context());
        }
#pragma warning disable CA1031 // A throwing user predicate must not crash the emulator; the run or response fails instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            onScriptFailed(ex);
            progress.Plan = new ScriptedRun().Fail("server_error", $"The emulator script threw: {ex.Message}");
        }

        return true;
    }

    /// <summary>
    /// The calls of the model's next tool round: a call queued because parallel calls are off, else the plan's next
    /// round that asks for any (one call now, the rest queued, when parallel calls are off); <see langword="null"/> when
    /// the model is done calling tools. User callbacks may throw; the caller fails the run or response.
    /// </summary>
    public static List<(string Name, string Arguments)>? NextToolRound(this IScriptProgress progress, bool toolsAllowed, bool parallelToolCalls, Func<EmulatorRunContext> context)
    {
        if (progress.QueuedCalls.Count > 0)
        {
            var next = progress.QueuedCalls[0];
            progress.QueuedCalls.RemoveAt(0);
            return [(next.Name, next.Arguments)];
        }

        var plan = progress.Plan;
        while (plan is not null && toolsAllowed && progress.RoundsIssued < plan.Rounds.Count)
        {
            var round = plan.Rounds[progress.RoundsIssued];
            progress.RoundsIssued++;
            var calls = (round(context()) ?? []).ToList();
            if (calls.Count == 0)
            {
                continue;
            }

            if (!parallelToolCalls && calls.Count > 1)
            {
                foreach (var (name, arguments) in calls.Skip(1))
                {
                    progress.QueuedCalls.Add(new ToolCallRecord { Name = name, Arguments = arguments ?? "" });
                }

                calls = [calls[0]];
            }

            return calls;
        }

        return null;
    }
}
