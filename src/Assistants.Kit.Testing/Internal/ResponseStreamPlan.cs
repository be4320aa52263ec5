using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Streams a response's events from a sequence number on until the response ends (no <c>[DONE]</c> sentinel: the
/// Responses stream just ends after <c>response.completed</c> / <c>response.incomplete</c> / <c>response.failed</c>, or
/// after the last event when a background response is cancelled).
/// </summary>
internal sealed class ResponseStreamPlan : StreamPlan
{
    private readonly ResponsesEngine _engine;
    private readonly int _start;

    private readonly bool _resumed;

    /// <param name="engine">The engine that advances the response.</param>
    /// <param name="response">The followed response.</param>
    /// <param name="startSequence">The first sequence number to send.</param>
    /// <param name="resumed">Whether this is a resumed stream (<c>GET …?stream=true</c>): scripted cuts and stream errors apply only to the stream of the request that created the response.</param>
    public ResponseStreamPlan(ResponsesEngine engine, ResponseRecord response, int startSequence, bool resumed)
    {
        _engine = engine;
        Response = response;
        _start = Math.Max(0, startSequence);
        _resumed = resumed;
        Cursor = _start;
    }

    public ResponseRecord Response { get; }

    public int Cursor { get; private set; }

    public override ScriptedRun? Script => _resumed ? null : _engine.PlanOf(Response);

    public override bool SendsDone => false;

    public override StreamStep Poll(DateTimeOffset now, List<SseEvent> into)
    {
        _engine.Advance(Response, now);
        if (Cursor < Response.Events.Count)
        {
            into.AddRange(Response.Events.Skip(Cursor));
            Cursor = Response.Events.Count;
        }

        var due = Response.PhaseEndsAt;
        return new StreamStep(!Response.IsActive, due > now ? due : null);
    }

    public override void Release()
    {
        Response.Followers--;
        if (Response.Followers <= 0)
        {
            Response.Followers = 0;
            if (!Response.Background)
            {
                // Only background responses keep their events (to resume a stream); a foreground stream's are gone with it.
                Response.Events.Clear();
                Response.RecordEvents = false;
            }
        }
    }

    /// <summary>The Responses <c>error</c> event: <c>{"type":"error","sequence_number",code,message,param}</c>.</summary>
    public override SseEvent ErrorEvent(string code, string message, int sent) => new("error", new JsonObject
    {
        ["type"] = "error",
        ["sequence_number"] = _start + sent,
        ["code"] = code,
        ["message"] = message,
        ["param"] = null,
    }.ToJsonString());
}
