namespace Assistants.Kit.Testing.Internal;

/// <summary>Streams a run's journal from <see cref="Cursor"/> on, until the run ends or requires action (Assistants v2).</summary>
internal sealed class RunStreamPlan : StreamPlan
{
    private readonly RunEngine _engine;

    public RunStreamPlan(RunEngine engine, ThreadRecord thread, RunRecord run)
    {
        _engine = engine;
        Thread = thread;
        Run = run;
        Cursor = run.Journal.Count;
    }

    public ThreadRecord Thread { get; }

    public RunRecord Run { get; }

    public int Cursor { get; private set; }

    public override ScriptedRun? Script => Run.Plan;

    public override bool SendsDone => true;

    public override StreamStep Poll(DateTimeOffset now, List<SseEvent> into)
    {
        _engine.Advance(Thread, Run, now);
        into.AddRange(Run.Journal.Skip(Cursor));
        Cursor = Run.Journal.Count;
        var finished = Run.IsTerminal || Run.Status == RunStatus.RequiresAction;
        var due = Run.Status == RunStatus.RequiresAction ? Run.Deadline : Run.PhaseEndsAt ?? now;
        return new StreamStep(finished, due > now ? due : null);
    }

    public override void Release()
    {
        Run.Followers--;
        if (Run.Followers <= 0)
        {
            Run.Followers = 0;
            Run.Journal.Clear();
        }
    }

    /// <summary>OpenAI's envelope, as the Python SDK parses stream errors; the .NET client surfaces the raw data in a ClientResultException.</summary>
    public override SseEvent ErrorEvent(string code, string message, int sent) =>
        new("error", ApiException.ErrorBody(message, "server_error", null, code).ToJsonString());
}
