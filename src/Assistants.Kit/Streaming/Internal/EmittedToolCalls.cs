using System.Text;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Streaming.Internal;

/// <summary>
/// The tool calls a stream announced and the argument text it emitted for each, so a call read afterwards (after a
/// recovery) is announced only when unseen and only the rest of its arguments is emitted. Not thread-safe.
/// </summary>
internal sealed class EmittedToolCalls
{
    private readonly Dictionary<string, (int Index, StringBuilder Arguments)> _calls = new(StringComparer.Ordinal);

    /// <summary>Records a call the stream announced at <paramref name="index"/>.</summary>
    public void Started(string toolCallId, int index) => _calls[toolCallId] = (index, new StringBuilder());

    /// <summary>Records argument text the stream emitted for a call it announced.</summary>
    public void Appended(string toolCallId, string delta)
    {
        if (_calls.TryGetValue(toolCallId, out var call))
        {
            call.Arguments.Append(delta);
        }
    }

    /// <summary>Announces <paramref name="call"/> when it is unseen, then emits the part of its arguments not emitted yet.</summary>
    public IEnumerable<RunStreamEvent> CatchUp(string threadId, string? runId, ToolCallRequest call, int index)
    {
        if (_calls.TryGetValue(call.ToolCallId, out var seen))
        {
            index = seen.Index;
        }
        else
        {
            seen = (index, new StringBuilder());
            _calls[call.ToolCallId] = seen;
            yield return new ToolCallStartedEvent(threadId, runId, call.ToolCallId, ToolCallType.Function, call.Name, index);
        }

        var sent = seen.Arguments.ToString();
        if (call.ArgumentsJson.Length > sent.Length && call.ArgumentsJson.StartsWith(sent, StringComparison.Ordinal))
        {
            var rest = call.ArgumentsJson[sent.Length..];
            seen.Arguments.Append(rest);
            yield return new ToolCallArgumentsDeltaEvent(threadId, runId, call.ToolCallId, index, rest);
        }
    }
}
