using Assistants.Kit;

namespace OrderSupport;

/// <summary>
/// Decides approvals: asks on the terminal when one is attached (<c>y</c> or <c>yes</c>, in any case, approves; any other
/// answer, or none, rejects); without a terminal it never prompts — it approves with <c>--approve</c> and rejects otherwise.
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
        return IsYes(answer);
    }

    private static bool IsYes(string? answer) =>
        answer?.Trim() is { } a
        && (a.Equals("y", StringComparison.OrdinalIgnoreCase) || a.Equals("yes", StringComparison.OrdinalIgnoreCase));
}
