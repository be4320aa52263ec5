using System.Globalization;
using StackExchange.Redis;

namespace Assistants.Kit.Migrate;

/// <summary>The parsed command line of <c>assistants-kit-migrate</c>, with the environment fallbacks applied.</summary>
internal sealed class MigrateCommandLine
{
    public const string Usage = """
        usage: assistants-kit-migrate (--keys KEY[,KEY…] | --all | --thread THREAD_ID…) --store (sqlite:PATH | redis:CONNECTION) [options]

        Migrates Assistants v2 threads (source) to Responses conversations (target). Safe to run again: migrated threads
        and messages are skipped, a failed migration resumes after the last carried message.

        source (Assistants protocol):
          --source-url URL          base address including /v1           (env SOURCE_OPENAI_BASE_URL; required)
          --source-key KEY          API key                              (env SOURCE_OPENAI_API_KEY)
          --source-query NAME=VALUE query parameter on every request, e.g. api-version=2025-05-01 (repeatable)
        target (Responses + Conversations):
          --target-url URL          base address including /v1           (env TARGET_OPENAI_BASE_URL; default https://api.openai.com/v1)
          --target-key KEY          API key                              (env TARGET_OPENAI_API_KEY; required for api.openai.com)
          --target-query NAME=VALUE (repeatable)
        what to migrate (one of):
          --keys KEY[,KEY…]         conversation keys; their Assistants bindings name the threads (repeatable)
          --all                     every conversation key with an Assistants binding in the store
          --thread THREAD_ID        an ad hoc thread; no binding is switched (repeatable)
        store (required; the kit's bindings, and where the thread → conversation mappings are recorded):
          --store sqlite:PATH       the kit's SQLite store file
          --store redis:CONNECTION[,prefix=PREFIX]
                                    the kit's Redis store: a StackExchange.Redis configuration string, e.g.
                                    redis:localhost:6379,password=…; prefix= is the store's key prefix
                                    (default assistants-kit:), as the app's AddRedisStore KeyPrefix
        how:
          --dry-run                 only read; report what would be done
          --batch-size N            conversation items per write, 1-20 (default 20)
          --file-map PATH           lines "source_file_id=target_file_id": image files carried with the target's ID
          --no-switch               carry the threads but leave the keys' Responses bindings as they are
          --no-run-steps            do not read run steps (faster; their tool calls are then not reported)
          -h, --help                this text

        Progress goes to stderr, the summary table to stdout. Prefer the environment variables to --*-key: command lines
        are visible to other processes.
        exit codes: 0 every thread migrated or up to date (or would be, with --dry-run); 1 some failed; 2 usage error;
                    3 a server (or the Redis store) was unreachable or refused the key (the migration stopped).
        """;

    public Uri? SourceUrl { get; private set; }

    public string? SourceKey { get; private set; }

    public Dictionary<string, string> SourceQuery { get; } = new(StringComparer.Ordinal);

    public Uri? TargetUrl { get; private set; }

    public string? TargetKey { get; private set; }

    public Dictionary<string, string> TargetQuery { get; } = new(StringComparer.Ordinal);

    public List<string> Keys { get; } = [];

    public bool All { get; private set; }

    public List<string> Threads { get; } = [];

    /// <summary>Gets the SQLite store's file, when the store is <c>sqlite:PATH</c>.</summary>
    public string? StorePath { get; private set; }

    /// <summary>Gets the Redis store's StackExchange.Redis configuration string, when the store is <c>redis:CONNECTION</c>.</summary>
    public string? RedisConnection { get; private set; }

    /// <summary>Gets the Redis store's key prefix (<c>prefix=</c>).</summary>
    public string RedisKeyPrefix { get; private set; } = RedisStoreOptions.DefaultKeyPrefix;

    /// <summary>Gets the store as shown in progress: the SQLite path, or the Redis endpoints and prefix (never a password).</summary>
    public string StoreDescription { get; private set; } = "";

    public bool DryRun { get; private set; }

    public int BatchSize { get; private set; } = 20;

    public string? FileMapPath { get; private set; }

    public bool NoSwitch { get; private set; }

    public bool NoRunSteps { get; private set; }

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; returns an error text instead of throwing.</summary>
    public static MigrateCommandLine? Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, out string? error)
    {
        error = null;
        var line = new MigrateCommandLine();
        string? sourceUrl = null, targetUrl = null, store = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            string? Value()
            {
                if (inline is not null)
                {
                    return inline.Length > 0 ? inline : null;
                }

                return i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 0 ? args[++i] : null;
            }

            switch (arg)
            {
                case "-h" or "--help":
                    line.Help = true;
                    break;
                case "--all":
                    line.All = true;
                    break;
                case "--dry-run":
                    line.DryRun = true;
                    break;
                case "--no-switch":
                    line.NoSwitch = true;
                    break;
                case "--no-run-steps":
                    line.NoRunSteps = true;
                    break;
                case "--source-url":
                    sourceUrl = Value() ?? Missing(arg, "URL", out error);
                    break;
                case "--source-key":
                    line.SourceKey = Value() ?? Missing(arg, "KEY", out error);
                    break;
                case "--target-url":
                    targetUrl = Value() ?? Missing(arg, "URL", out error);
                    break;
                case "--target-key":
                    line.TargetKey = Value() ?? Missing(arg, "KEY", out error);
                    break;
                case "--source-query" or "--target-query":
                    var pair = Value();
                    if (pair is null || pair.IndexOf('=', StringComparison.Ordinal) is not (var at and > 0))
                    {
                        error = $"{arg} needs NAME=VALUE (was '{pair}')";
                        return null;
                    }

                    (arg == "--source-query" ? line.SourceQuery : line.TargetQuery)[pair[..at]] = pair[(at + 1)..];
                    break;
                case "--keys":
                    var keys = Value() ?? Missing(arg, "KEY[,KEY…]", out error);
                    line.Keys.AddRange((keys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--thread":
                    var thread = Value() ?? Missing(arg, "THREAD_ID", out error);
                    if (thread is not null)
                    {
                        line.Threads.Add(thread);
                    }

                    break;
                case "--store":
                    store = Value() ?? Missing(arg, "sqlite:PATH or redis:CONNECTION", out error);
                    break;
                case "--batch-size":
                    var size = Value();
                    if (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var batch) || batch is < 1 or > 20)
                    {
                        error = $"--batch-size must be a number from 1 to 20 (was '{size}')";
                        return null;
                    }

                    line.BatchSize = batch;
                    break;
                case "--file-map":
                    line.FileMapPath = Value() ?? Missing(arg, "PATH", out error);
                    break;
                default:
                    error = $"unknown argument '{arg}'";
                    return null;
            }

            if (error is not null)
            {
                return null;
            }
        }

        if (line.Help)
        {
            return line;
        }

        sourceUrl ??= Env(environment, "SOURCE_OPENAI_BASE_URL");
        targetUrl ??= Env(environment, "TARGET_OPENAI_BASE_URL");
        line.SourceKey ??= Env(environment, "SOURCE_OPENAI_API_KEY");
        line.TargetKey ??= Env(environment, "TARGET_OPENAI_API_KEY");

        var selections = (line.Keys.Count > 0 ? 1 : 0) + (line.All ? 1 : 0) + (line.Threads.Count > 0 ? 1 : 0);
        if (selections != 1)
        {
            error = selections == 0 ? "say what to migrate: --keys, --all or --thread" : "use only one of --keys, --all and --thread";
            return null;
        }

        if (store is null)
        {
            error = "--store sqlite:PATH or redis:CONNECTION is required (the mappings must survive the process so a re-run resumes)";
            return null;
        }

        if (store.StartsWith("sqlite:", StringComparison.Ordinal) && store.Length > "sqlite:".Length)
        {
            line.StorePath = store["sqlite:".Length..];
            line.StoreDescription = line.StorePath;
        }
        else if (store.StartsWith("redis:", StringComparison.Ordinal))
        {
            if (!line.ParseRedis(store["redis:".Length..], out error))
            {
                return null;
            }
        }
        else
        {
            error = $"--store must be sqlite:PATH or redis:CONNECTION[,prefix=PREFIX] (was '{store}')";
            return null;
        }
        if (sourceUrl is null)
        {
            error = "the source is required: --source-url or SOURCE_OPENAI_BASE_URL (the Assistants-compatible server, including /v1)";
            return null;
        }

        line.SourceUrl = AbsoluteUrl(sourceUrl, "--source-url", out error);
        if (error is not null)
        {
            return null;
        }

        if (targetUrl is not null)
        {
            line.TargetUrl = AbsoluteUrl(targetUrl, "--target-url", out error);
            if (error is not null)
            {
                return null;
            }
        }

        if ((line.TargetUrl is null || line.TargetUrl.Host == AssistantsKitOptions.OpenAIEndpoint.Host) && line.TargetKey is null)
        {
            error = $"the target key is required for {AssistantsKitOptions.OpenAIEndpoint}: --target-key or TARGET_OPENAI_API_KEY";
            return null;
        }

        return line;
    }

    /// <summary>
    /// Splits <c>CONNECTION[,prefix=PREFIX]</c>: the <c>prefix=</c> entry is the store's, every other entry is passed to
    /// StackExchange.Redis, which must accept the result and find at least one endpoint in it.
    /// </summary>
    private bool ParseRedis(string text, out string? error)
    {
        var entries = new List<string>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.StartsWith("prefix=", StringComparison.OrdinalIgnoreCase))
            {
                var prefix = entry["prefix=".Length..];
                if (prefix.Length == 0)
                {
                    error = "--store redis:…,prefix= needs a prefix (omit it for the default assistants-kit:)";
                    return false;
                }

                RedisKeyPrefix = prefix;
            }
            else
            {
                entries.Add(entry);
            }
        }

        var connection = string.Join(',', entries);
        if (entries.Count == 0)
        {
            error = "--store redis:CONNECTION needs a server, e.g. redis:localhost:6379 (was no endpoint)";
            return false;
        }

        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(connection);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad option, never its value.
            error = $"--store redis: is not a valid StackExchange.Redis configuration ({ex.Message.Split('\n', 2)[0].Trim()})";
            return false;
        }

        if (configuration.EndPoints.Count == 0)
        {
            error = "--store redis:CONNECTION needs a server, e.g. redis:localhost:6379 (was no endpoint)";
            return false;
        }

        RedisConnection = connection;
        StoreDescription = $"redis:{string.Join(',', configuration.EndPoints.Select(EndPointCollection.ToString))} (prefix {RedisKeyPrefix})";
        error = null;
        return true;
    }

    private static string? Missing(string flag, string what, out string? error)
    {
        error = $"{flag} needs {what}";
        return null;
    }

    private static Uri? AbsoluteUrl(string text, string flag, out string? error)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            error = null;
            return uri;
        }

        error = $"{flag} must be an absolute http or https URL including /v1 (was '{text}')";
        return null;
    }

    private static string? Env(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}
