namespace Assistants.Kit;

/// <summary>Why the kit's tool-loop guard stopped a run.</summary>
public enum ToolLoopStopReason
{
    /// <summary>The run asked for more tool rounds than <see cref="ToolOptions.MaxToolRounds"/> allows.</summary>
    MaxToolRounds,

    /// <summary>
    /// The model called the same tool with canonically identical JSON arguments (key order and whitespace ignored)
    /// <see cref="ToolOptions.MaxIdenticalCalls"/> times in one run.
    /// </summary>
    RepeatedCall,
}
