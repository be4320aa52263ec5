using Assistants.Kit;

namespace OrderSupport;

/// <summary>
/// Decides approvals: asks on the terminal (y/n) when one is attached; without a terminal it never prompts — it approves
/// with <c>--approve</c> and rejects otherwise.
/// </summary>
internal sealed class Approver(bool approveWithoutTerminal, bool isTerminal, TextReader stdin, TextWriter stderr)
{
    public bool Decide(ToolApproval approval)
    {
        if (!isTerminal)
        {
            return approveWithoutTerminal;
        }

        stderr.Write($"Approve {approval.ToolName} {approval.ArgumentsJson}? [y/N] ");
        stderr.Flush();
        var answer = stdin.ReadLine();
        return answer is not null && answer.Trim().StartsWith('y');
    }
}
