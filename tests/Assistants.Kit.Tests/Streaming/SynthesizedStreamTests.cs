namespace Assistants.Kit.Tests.Streaming;

/// <summary>
/// Shapes no recording and no emulator run produces (the emulator never executes the built-in tools), written after the
/// Assistants v2 wire format and parsed by the official client, then mapped by the kit.
/// </summary>
public sealed class SynthesizedStreamTests
{
    private const string CodeInterpreterStream = """
        event: thread.run.step.delta
        data: {"id":"step_ci","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"id":"call_ci","type":"code_interpreter","code_interpreter":{"input":"","outputs":[]}}]}}}

        event: thread.run.step.delta
        data: {"id":"step_ci","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"type":"code_interpreter","code_interpreter":{"input":"print(1 + 1)"}}]}}}

        event: thread.run.step.delta
        data: {"id":"step_ci","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"type":"code_interpreter","code_interpreter":{"input":"\nplot()"}}]}}}

        event: thread.run.step.completed
        data: {"id":"step_ci","object":"thread.run.step","created_at":1735689600,"run_id":"run_ci","assistant_id":"asst_ci","thread_id":"thread_replay","type":"tool_calls","status":"completed","cancelled_at":null,"completed_at":1735689603,"expires_at":null,"failed_at":null,"last_error":null,"step_details":{"type":"tool_calls","tool_calls":[{"id":"call_ci","type":"code_interpreter","code_interpreter":{"input":"print(1 + 1)\nplot()","outputs":[{"type":"logs","logs":"2\n"},{"type":"image","image":{"file_id":"file-plot"}}]}}]},"usage":{"prompt_tokens":120,"completion_tokens":14,"total_tokens":134}}

        event: done
        data: [DONE]


        """;

    [Fact]
    public async Task CodeInterpreterCall_StreamsItsInput_AndCompletesWithLogsAndImages()
    {
        var (events, mapper) = await RecordedStreamReplayTests.ReplayAsync(CodeInterpreterStream.ReplaceLineEndings("\n"));

        Assert.Equal(
            ["tool.started CodeInterpreter  #0", "tool.args print(1 + 1)", "tool.args \nplot()", "tool.completed CodeInterpreter", "step ToolCalls Completed"],
            StreamHarness.Describe(events));
        var completed = events.OfType<ToolCallCompletedEvent>().Single();
        Assert.Equal("call_ci", completed.ToolCallId);
        Assert.Null(completed.Record);
        Assert.Equal("print(1 + 1)\nplot()", completed.CodeInterpreterInput);
        Assert.Equal(["2\n"], completed.CodeInterpreterLogs);
        Assert.Equal(["file-plot"], completed.ImageFileIds);
        Assert.Equal(completed.CodeInterpreterInput, string.Concat(events.OfType<ToolCallArgumentsDeltaEvent>().Select(a => a.Delta)));
        Assert.All(events.OfType<ToolCallArgumentsDeltaEvent>(), a => Assert.Equal(ToolCallType.CodeInterpreter, a.Type));

        // A handler gets the input in its own hook; by default it reaches the arguments hook, like a function's.
        var handler = new InputRecorder();
        var plain = new ArgumentsRecorder();
        foreach (var e in events)
        {
            await handler.OnEventAsync(e, CancellationToken.None);
            await plain.OnEventAsync(e, CancellationToken.None);
        }

        Assert.Equal(("print(1 + 1)\nplot()", ""), (handler.Input.ToString(), handler.Arguments.ToString()));
        Assert.Equal("print(1 + 1)\nplot()", plain.Arguments.ToString());

        var step = Assert.Single(mapper.Steps);
        Assert.Equal(new TokenUsage(120, 14), step.Usage);
        Assert.Equal(TimeSpan.FromSeconds(3), step.Latency);
        Assert.Equal(RunStepToolCallKind.CodeInterpreter, Assert.Single(step.ToolCalls).Kind);
    }

    private sealed class InputRecorder : RunStreamHandler
    {
        public System.Text.StringBuilder Input { get; } = new();

        public System.Text.StringBuilder Arguments { get; } = new();

        protected override ValueTask OnCodeInterpreterInputAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken)
        {
            Input.Append(e.Delta);
            return ValueTask.CompletedTask;
        }

        protected override ValueTask OnToolCallArgumentsDeltaAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken)
        {
            Arguments.Append(e.Delta);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ArgumentsRecorder : RunStreamHandler
    {
        public System.Text.StringBuilder Arguments { get; } = new();

        protected override ValueTask OnToolCallArgumentsDeltaAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken)
        {
            Arguments.Append(e.Delta);
            return ValueTask.CompletedTask;
        }
    }
}
