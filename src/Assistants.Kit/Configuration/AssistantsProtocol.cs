namespace Assistants.Kit;

/// <summary>The wire protocol the kit speaks to the server.</summary>
public enum AssistantsProtocol
{
    /// <summary>
    /// OpenAI's Assistants v2 protocol (<c>/assistants</c>, <c>/threads</c>, runs). Switched off by OpenAI and Azure OpenAI on
    /// 2026-08-26; still spoken by Azure Foundry classic agents (until 2027-03-31), self-hosted compatible servers and the
    /// kit's emulator.
    /// </summary>
    Assistants,

    /// <summary>OpenAI's Responses + Conversations protocol (<c>/responses</c>, <c>/conversations</c>).</summary>
    Responses,
}
