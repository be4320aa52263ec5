namespace OrderSupport;

/// <summary>The sample's command line (see "The Order Support sample's command line" in the README): flags start with <c>--</c>, the rest is the message.</summary>
public sealed record CommandLine(string Message, string ConversationKey, bool Poll, bool New, bool Approve)
{
    public const string DefaultConversationKey = "demo";

    public const string Usage = """
        usage: dotnet run --project samples/OrderSupport -- [--poll] [--new] [--conversation KEY] [--approve] <message words…>
          --poll               use the polled path instead of streaming
          --new                start a new conversation for the key instead of continuing the stored one
          --conversation KEY   the conversation key (default: demo)
          --approve            approve tool calls that need approval when no terminal is attached
        environment: OPENAI_API_KEY, OPENAI_BASE_URL (including /v1), OPENAI_MODEL, AssistantsKit__* (any kit option)
        with neither OPENAI_API_KEY nor OPENAI_BASE_URL set, the built-in emulator runs in-process.
        """;

    /// <summary>Parses the arguments; returns an error text instead of throwing.</summary>
    public static CommandLine? Parse(IReadOnlyList<string> args, out string? error)
    {
        var words = new List<string>();
        var key = DefaultConversationKey;
        bool poll = false, isNew = false, approve = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                words.Add(arg);
                continue;
            }

            switch (arg)
            {
                case "--poll":
                    poll = true;
                    break;
                case "--new":
                    isNew = true;
                    break;
                case "--approve":
                    approve = true;
                    break;
                case "--conversation":
                    if (i + 1 >= args.Count || string.IsNullOrWhiteSpace(args[i + 1]) || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        error = "--conversation needs a KEY";
                        return null;
                    }

                    key = args[++i];
                    break;
                default:
                    error = $"unknown flag {arg}";
                    return null;
            }
        }

        var message = string.Join(' ', words).Trim();
        if (message.Length == 0)
        {
            error = "no message";
            return null;
        }

        error = null;
        return new CommandLine(message, key, poll, isNew, approve);
    }
}
