using Assistants.Kit.Streaming.Internal;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// A run stream whose follow-and-catch-up half is its protocol's <see cref="IStreamMapper"/>; a protocol adds how its
/// segments open and how their updates are read.
/// </summary>
internal abstract class MappedRunStream : IRunStream
{
    private readonly IStreamMapper _mapper;

    protected MappedRunStream(IStreamMapper mapper)
    {
        _mapper = mapper;
    }

    public RunSnapshot? Run => _mapper.Run;

    public IReadOnlyList<RunStepRecord> Steps => _mapper.Steps;

    public IReadOnlyList<AssistantMessage> CompletedMessages => _mapper.CompletedMessages;

    public bool AllMessagesCompleted => _mapper.AllMessagesCompleted;

    public abstract bool Broken { get; }

    public abstract Task<RunSnapshot?> OpenAsync(CancellationToken cancellationToken);

    public abstract Task<RunSnapshot?> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken);

    public abstract ValueTask<bool> ReadAsync(List<RunStreamEvent> events);

    public abstract ValueTask DisposeAsync();

    public void Follow(RunSnapshot run) => _mapper.Follow(run);

    public IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot run) => _mapper.OnPolledStatus(run);

    public IEnumerable<RunStreamEvent> OnPolledStep(RunStepRecord step) => _mapper.OnPolledStep(step);

    public IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message) => _mapper.CatchUp(message);

    public IEnumerable<RunStreamEvent> CatchUp(ToolCallRequest call, int index) => _mapper.CatchUp(call, index);
}
