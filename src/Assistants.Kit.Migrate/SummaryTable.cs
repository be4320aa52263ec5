using System.Globalization;

namespace Assistants.Kit.Migrate;

/// <summary>The summary printed on stdout: one row per thread, what was not carried, and the totals.</summary>
internal static class SummaryTable
{
    private static readonly string[] Headers = ["KEY", "THREAD", "CONVERSATION", "STATUS", "CARRIED", "BEFORE", "NOT CARRIED", "NOTE"];

    public static string Status(ThreadMigrationStatus status) => status switch
    {
        ThreadMigrationStatus.Migrated => "migrated",
        ThreadMigrationStatus.UpToDate => "up-to-date",
        ThreadMigrationStatus.WouldMigrate => "would-migrate",
        ThreadMigrationStatus.Failed => "failed",
        _ => "not-attempted",
    };

    public static async Task WriteAsync(TextWriter stdout, MigrationSummary summary)
    {
        var rows = summary.Threads.Select(Row).ToList();
        var widths = Headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        await stdout.WriteLineAsync(Format(Headers, widths)).ConfigureAwait(false);
        foreach (var row in rows)
        {
            await stdout.WriteLineAsync(Format(row, widths)).ConfigureAwait(false);
        }

        var notCarried = summary.Threads.Where(t => t.NotCarried.Count > 0).ToList();
        if (notCarried.Count > 0)
        {
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteLineAsync("Not carried:").ConfigureAwait(false);
            foreach (var thread in notCarried)
            {
                foreach (var item in thread.NotCarried)
                {
                    var where = item.MessageId ?? item.RunId ?? "thread";
                    await stdout.WriteLineAsync($"  {thread.ThreadId} {where} {Kind(item.Kind)}: {item.Detail}").ConfigureAwait(false);
                }
            }
        }

        await stdout.WriteLineAsync().ConfigureAwait(false);
        var dryRun = summary.Threads.Any(t => t.DryRun);
        var count = summary.Threads.Count;
        var done = dryRun
            ? $"{N(summary.Count(ThreadMigrationStatus.WouldMigrate))} would be migrated"
            : $"{N(summary.Count(ThreadMigrationStatus.Migrated))} migrated";
        await stdout.WriteLineAsync(
            $"{N(count)} thread{(count == 1 ? "" : "s")}: {done}, {N(summary.Count(ThreadMigrationStatus.UpToDate))} up to date, " +
            $"{N(summary.Count(ThreadMigrationStatus.Failed))} failed, {N(summary.Count(ThreadMigrationStatus.NotAttempted))} not attempted; " +
            $"{Messages(summary.MessagesCarried)} {(dryRun ? "would be " : "")}carried.{(dryRun ? " Dry run: nothing was written." : "")}").ConfigureAwait(false);
    }

    public static string Messages(int count) => $"{N(count)} message{(count == 1 ? "" : "s")}";

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string[] Row(ThreadMigrationReport report)
    {
        var note = report.Error
            ?? (report.BindingSwitched ? (report.DryRun ? "would switch the Responses binding" : "Responses binding switched") : "");
        return
        [
            report.ConversationKey ?? "-",
            report.ThreadId ?? "-",
            report.ConversationId ?? (report.ConversationCreated ? "(new)" : "-"),
            Status(report.Status),
            report.MessagesCarried.ToString(CultureInfo.InvariantCulture),
            report.MessagesAlreadyCarried.ToString(CultureInfo.InvariantCulture),
            report.NotCarried.Count.ToString(CultureInfo.InvariantCulture),
            note,
        ];
    }

    private static string Kind(NotCarriedKind kind) => kind switch
    {
        NotCarriedKind.ImageFile => "image file",
        NotCarriedKind.ImageUrl => "image URL",
        NotCarriedKind.Attachment => "attachment",
        NotCarriedKind.Annotation => "annotation",
        NotCarriedKind.EmptyMessage => "empty message",
        NotCarriedKind.FunctionCall => "function call",
        NotCarriedKind.CodeInterpreter => "code interpreter",
        NotCarriedKind.FileSearch => "file search",
        NotCarriedKind.ThreadMetadata => "thread metadata",
        NotCarriedKind.MessageMetadata => "message metadata",
        _ => "unknown content",
    };

    private static string Format(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
