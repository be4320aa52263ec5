using Assistants.Kit.Internal;

namespace Assistants.Kit.Tools.Internal;

/// <summary>
/// Watches the tool rounds of one run and says when to stop it: after <see cref="ToolOptions.MaxToolRounds"/> rounds, or
/// when the model asks for the same tool with canonically identical arguments <see cref="ToolOptions.MaxIdenticalCalls"/>
/// times. Create one per run; not thread-safe (a run's rounds are sequential).
/// </summary>
internal sealed class ToolLoopGuard
{
    private readonly int _maxToolRounds;
    private readonly int _maxIdenticalCalls;
    private readonly Dictionary<(string Name, string Arguments), int> _calls = [];

    public ToolLoopGuard(int maxToolRounds, int maxIdenticalCalls)
    {
        _maxToolRounds = Throw.IfLessThan(maxToolRounds, 1);
        _maxIdenticalCalls = Throw.IfLessThan(maxIdenticalCalls, 2);
    }

    public ToolLoopGuard(ToolOptions options)
        : this(Throw.IfNull(options).MaxToolRounds, options.MaxIdenticalCalls)
    {
    }

    /// <summary>Gets the number of rounds observed so far.</summary>
    public int Rounds { get; private set; }

    /// <summary>Records one round of calls (one <c>requires_action</c>) and says whether the run may execute it.</summary>
    public ToolLoopVerdict Observe(IReadOnlyList<ToolCallRequest> calls)
    {
        _ = Throw.IfNull(calls);
        Rounds++;
        if (Rounds > _maxToolRounds)
        {
            return ToolLoopVerdict.Stop(
                ToolLoopStopReason.MaxToolRounds,
                toolName: null,
                $"The run asked for tool round {Rounds}; at most {_maxToolRounds} tool rounds are allowed per run.");
        }

        foreach (ToolCallRequest call in calls)
        {
            var key = (call.Name, CanonicalJson.Canonicalize(call.ArgumentsJson));
            int count = _calls.GetValueOrDefault(key) + 1;
            _calls[key] = count;
            if (count >= _maxIdenticalCalls)
            {
                return ToolLoopVerdict.Stop(
                    ToolLoopStopReason.RepeatedCall,
                    call.Name,
                    $"The model called tool '{call.Name}' with the same arguments {count} times in this run.");
            }
        }

        return ToolLoopVerdict.Continue;
    }
}

/// <summary>What <see cref="ToolLoopGuard.Observe"/> decided.</summary>
/// <param name="StopReason">Why to stop, or <see langword="null"/> to continue.</param>
/// <param name="ToolName">The repeated tool for <see cref="ToolLoopStopReason.RepeatedCall"/>; otherwise <see langword="null"/>.</param>
/// <param name="Message">A sentence for logs and the run's outcome; <see langword="null"/> when continuing.</param>
internal readonly record struct ToolLoopVerdict(ToolLoopStopReason? StopReason, string? ToolName, string? Message)
{
    public static ToolLoopVerdict Continue => default;

    public bool ShouldStop => StopReason is not null;

    public static ToolLoopVerdict Stop(ToolLoopStopReason reason, string? toolName, string message) => new(reason, toolName, message);
}
