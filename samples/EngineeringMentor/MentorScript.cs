using Assistants.Kit.Testing;

namespace EngineeringMentor;

/// <summary>The mentor's instructions, and the emulator's scripted model for it (used when no server is configured).</summary>
public static class MentorScript
{
    public const string Instructions =
        "You are the engineering mentor of a software team. Answer from the engineering handbook with file search and cite " +
        "it. When asked for a chart or plot, draw it with code interpreter. Answer briefly.";

    /// <summary>The code the scripted code interpreter step shows for a chart.</summary>
    public const string ChartCode = """
        import matplotlib.pyplot as plt
        sizes = ["under 100", "100-400", "over 400"]
        hours = [4, 8, 24]
        plt.bar(sizes, hours)
        plt.title("Review turnaround target (hours)")
        plt.savefig("/mnt/data/review-targets.png")
        print(dict(zip(sizes, hours)))
        """;

    /// <summary>What the chart code prints.</summary>
    public const string ChartLogs = "{'under 100': 4, '100-400': 8, 'over 400': 24}";

    /// <summary>
    /// Scripts the emulator's model: every question is searched in the handbook (file search over the ingested vector
    /// store) and answered with the best passage's first sentence, cited; a question that asks for a chart, plot or graph
    /// also runs code interpreter, which draws one.
    /// </summary>
    public static void Apply(EmulatorScript script)
    {
        script.When(ctx => AsksForChart(ctx.LatestUserMessage))
            .SearchFiles()
            .RunCode(ChartCode, ChartLogs, image: true)
            .Reply(ctx => "I drew the review turnaround targets as a chart. " + Answer(ctx));
        script.Default()
            .SearchFiles()
            .Reply(Answer);
    }

    private static bool AsksForChart(string message) =>
        message.Contains("chart", StringComparison.OrdinalIgnoreCase)
        || message.Contains("plot", StringComparison.OrdinalIgnoreCase)
        || message.Contains("graph", StringComparison.OrdinalIgnoreCase);

    private static string Answer(EmulatorRunContext context)
    {
        if (context.FileSearchResults.Count == 0)
        {
            return "The handbook does not say.";
        }

        // The best passage's sentence that shares the most words with the question.
        var body = string.Join(' ', context.FileSearchResults[0].Text.Split('\n').Where(l => !l.StartsWith('#')));
        var question = Words(context.LatestUserMessage);
        var sentence = body.Split(". ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .OrderByDescending(s => Words(s).Count(w => question.Any(q => q.Length >= 4 && (w.StartsWith(q, StringComparison.Ordinal) || q.StartsWith(w, StringComparison.Ordinal)))))
            .First();
        return $"According to the handbook: {sentence.TrimEnd('.')}.";
    }

    private static List<string> Words(string text) =>
        [.. text.ToLowerInvariant().Split([' ', ',', '.', '?', '!', ':', ';', '(', ')', '"'], StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 4)];
}
