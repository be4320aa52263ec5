using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Migrate;

/// <summary>
/// The <c>assistants-kit-migrate</c> command: migrates Assistants v2 threads to Responses conversations with the
/// <see cref="ThreadMigrator"/>, progress on stderr, a summary table on stdout. Runnable in-process (tests) through
/// <see cref="RunAsync"/>.
/// </summary>
public static class MigrateCommand
{
    /// <summary>Every thread migrated or up to date (or, in a dry run, would be).</summary>
    public const int ExitSucceeded = 0;

    /// <summary>Some threads failed (or were not attempted); run again to resume.</summary>
    public const int ExitSomeFailed = 1;

    /// <summary>The command line or the configuration is wrong; nothing was done.</summary>
    public const int ExitUsage = 2;

    /// <summary>A server was unreachable or refused the key; the migration stopped.</summary>
    public const int ExitUnreachable = 3;

    /// <summary>Runs the command.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="environment">The environment variables (<c>SOURCE_OPENAI_BASE_URL</c>, <c>SOURCE_OPENAI_API_KEY</c>, <c>TARGET_OPENAI_BASE_URL</c>, <c>TARGET_OPENAI_API_KEY</c>).</param>
    /// <param name="stdout">Receives the summary table.</param>
    /// <param name="stderr">Receives progress and errors.</param>
    /// <param name="cancellationToken">Stops the migration after the current request; the progress so far is kept.</param>
    /// <returns>The exit code: <see cref="ExitSucceeded"/>, <see cref="ExitSomeFailed"/>, <see cref="ExitUsage"/> or <see cref="ExitUnreachable"/>.</returns>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string?> environment,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var line = MigrateCommandLine.Parse(args, environment, out var error);
        if (line is null)
        {
            await stderr.WriteLineAsync($"error: {error}").ConfigureAwait(false);
            await stderr.WriteLineAsync("run assistants-kit-migrate --help for the options").ConfigureAwait(false);
            return ExitUsage;
        }

        if (line.Help)
        {
            await stdout.WriteLineAsync(MigrateCommandLine.Usage).ConfigureAwait(false);
            return ExitSucceeded;
        }

        var options = new MigrationOptions
        {
            DryRun = line.DryRun,
            SwitchBindings = !line.NoSwitch,
            InspectRunSteps = !line.NoRunSteps,
            Progress = new StderrProgress(stderr, line.DryRun),
        };
        if (line.FileMapPath is { } fileMap && !await ReadFileMapAsync(fileMap, options.FileIdMap, stderr, cancellationToken).ConfigureAwait(false))
        {
            return ExitUsage;
        }

        var services = Build(line);
        await using var disposeServices = services.ConfigureAwait(false);
        ThreadMigrator migrator;
        try
        {
            migrator = services.GetRequiredService<ThreadMigrator>();
            _ = services.GetRequiredService<IConversationStore>();
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await stderr.WriteLineAsync($"error: {failure}").ConfigureAwait(false);
            }

            return ExitUsage;
        }

        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"migrating from {line.SourceUrl} (Assistants) to {line.TargetUrl ?? AssistantsKitOptions.OpenAIEndpoint} (Responses), store {line.StoreDescription}{(line.DryRun ? ", dry run: nothing is written" : "")}")).ConfigureAwait(false);
        MigrationSummary summary;
        try
        {
            summary = line.All ? await migrator.MigrateAllAsync(options, cancellationToken).ConfigureAwait(false)
                : line.Keys.Count > 0 ? await migrator.MigrateAsync(line.Keys, options, cancellationToken).ConfigureAwait(false)
                : await migrator.MigrateThreadsAsync(line.Threads, options, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("cancelled: the progress so far is recorded; run the same command again to resume").ConfigureAwait(false);
            return ExitSomeFailed;
        }
        catch (StackExchange.Redis.RedisConnectionException ex)
        {
            await stderr.WriteLineAsync($"error: the Redis store {line.StoreDescription} is unreachable: {ex.Message.Split('\n', 2)[0].Trim()}").ConfigureAwait(false);
            return ExitUnreachable;
        }

        if (summary.Threads.Count == 0)
        {
            await stdout.WriteLineAsync("Nothing to migrate: the store has no conversation key with an Assistants binding.").ConfigureAwait(false);
            return ExitSucceeded;
        }

        await SummaryTable.WriteAsync(stdout, summary).ConfigureAwait(false);
        return summary.Aborted ? ExitUnreachable : summary.Succeeded ? ExitSucceeded : ExitSomeFailed;
    }

    private static ServiceProvider Build(MigrateCommandLine line)
    {
        var services = new ServiceCollection();
        services.AddLogging();

        // The kit's HTTP stack reads the kit's options: they point at the target (the kit's own clients stay unused).
        var builder = services.AddAssistantsKit(o =>
        {
            o.Endpoint = line.TargetUrl;
            o.ApiKey = line.TargetKey;
        });
        if (line.RedisConnection is { } redis)
        {
            builder.AddRedisStore(o =>
            {
                o.ConnectionString = redis;
                o.KeyPrefix = line.RedisKeyPrefix;
            });
        }
        else
        {
            builder.AddSqliteStore(line.StorePath!);
        }
        services.AddAssistantsKitMigration(o =>
        {
            o.Source.Endpoint = line.SourceUrl;
            o.Source.ApiKey = line.SourceKey;
            o.Target.Endpoint = line.TargetUrl;
            o.Target.ApiKey = line.TargetKey;
            o.BatchSize = line.BatchSize;
            foreach (var (name, value) in line.SourceQuery)
            {
                o.Source.QueryParameters[name] = value;
            }

            foreach (var (name, value) in line.TargetQuery)
            {
                o.Target.QueryParameters[name] = value;
            }
        });
        return services.BuildServiceProvider();
    }

    private static async Task<bool> ReadFileMapAsync(string path, IDictionary<string, string> map, TextWriter stderr, CancellationToken cancellationToken)
    {
        string[] lines;
        try
        {
            lines = await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync($"error: --file-map {path} cannot be read: {ex.Message}").ConfigureAwait(false);
            return false;
        }
        catch (UnauthorizedAccessException ex)
        {
            await stderr.WriteLineAsync($"error: --file-map {path} cannot be read: {ex.Message}").ConfigureAwait(false);
            return false;
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            var parts = text.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"error: --file-map {path} line {i + 1} must be source_file_id=target_file_id (was '{text}')")).ConfigureAwait(false);
                return false;
            }

            map[parts[0]] = parts[1];
        }

        return true;
    }

    private static string Messages(int count) => SummaryTable.Messages(count);

    /// <summary>Writes progress lines synchronously, in order (not through <see cref="Progress{T}"/>, which posts).</summary>
    private sealed class StderrProgress(TextWriter stderr, bool dryRun) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value)
        {
            var who = value.ConversationKey is null ? value.ThreadId : $"{value.ConversationKey} ({value.ThreadId ?? "no thread"})";
            var prefix = string.Create(CultureInfo.InvariantCulture, $"[{value.Index}/{value.Count}] {who}");
            switch (value.Stage)
            {
                case MigrationProgressStage.ThreadStarted:
                    stderr.WriteLine($"{prefix}: started");
                    break;
                case MigrationProgressStage.BatchCarried:
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix}: {Messages(value.MessagesCarried)} {(dryRun ? "would be carried" : $"carried into {value.ConversationId}")}"));
                    break;
                case MigrationProgressStage.ThreadFinished when value.Report is { } report:
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix}: {SummaryTable.Status(report.Status)}, {Messages(report.MessagesCarried)} {(dryRun ? "would be carried" : "carried")}{(report.Error is null ? "" : $": {report.Error}")}"));
                    break;
            }
        }
    }
}
