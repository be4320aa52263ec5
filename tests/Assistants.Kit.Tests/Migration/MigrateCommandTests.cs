using System.Text.Json.Nodes;
using Assistants.Kit.Migrate;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Migration;

/// <summary>The <c>assistants-kit-migrate</c> tool, run in-process against two emulators and a SQLite store file.</summary>
public sealed class MigrateCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kit-migrate-" + Guid.NewGuid().ToString("N"));

    public MigrateCommandTests()
    {
        Directory.CreateDirectory(_directory);
    }

    private string StorePath => Path.Combine(_directory, "store.db");

    [Fact]
    public async Task All_MigratesEveryBinding_PrintsProgressAndTheTable_AndAReRunIsUpToDate()
    {
        await using var h = await MigrationHarness.StartAsync();
        var first = await h.CreateThreadAsync(("user", "Where is order 42?"), ("assistant", "It shipped."), ("user", "Thanks"));
        var second = await h.CreateThreadAsync(("user", "Refund please"), ("assistant", "Done."));
        await SeedAsync(("customer-1", first), ("customer-2", second));

        var (exit, stdout, stderr) = await RunAsync(h, "--all", "--store", $"sqlite:{StorePath}", "--batch-size", "2");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.TrimEntries);
        Assert.StartsWith("KEY", lines[0], StringComparison.Ordinal);
        Assert.Contains("CONVERSATION", lines[0], StringComparison.Ordinal);
        Assert.Matches($@"^customer-1\s+{first}\s+conv_\w+\s+migrated\s+3\s+0\s+0\s+Responses binding switched$", lines[1]);
        Assert.Matches($@"^customer-2\s+{second}\s+conv_\w+\s+migrated\s+2\s+0\s+0\s+Responses binding switched$", lines[2]);
        Assert.Contains("2 threads: 2 migrated, 0 up to date, 0 failed, 0 not attempted; 5 messages carried.", stdout, StringComparison.Ordinal);
        Assert.Contains($"[1/2] customer-1 ({first}): started", stderr, StringComparison.Ordinal);
        Assert.Contains($"[1/2] customer-1 ({first}): 2 messages carried into conv_", stderr, StringComparison.Ordinal);
        Assert.Contains($"[2/2] customer-2 ({second}): migrated, 2 messages carried", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", stdout + stderr, StringComparison.Ordinal);

        await using (var store = OpenStore())
        {
            var binding = await store.GetRequiredService<IConversationStore>().GetAsync("customer-1", AssistantsProtocol.Responses);
            Assert.Equal([first], binding!.PreviousThreadIds);
            Assert.Equal(["user: Where is order 42?", "assistant: It shipped.", "user: Thanks"], await h.TranscriptAsync(binding.ThreadId));
        }

        h.Target.Requests.Clear();
        var (again, rerun, _) = await RunAsync(h, "--all", "--store", $"sqlite:{StorePath}");

        Assert.Equal(MigrateCommand.ExitSucceeded, again);
        Assert.Contains("2 threads: 0 migrated, 2 up to date, 0 failed, 0 not attempted; 0 messages carried.", rerun, StringComparison.Ordinal);
        Assert.Empty(MigrationHarness.Writes(h.Target));
    }

    [Fact]
    public async Task DryRun_OfAdHocThreads_ReportsAndWritesNothing()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"), ("assistant", "hi"));
        h.Source.Requests.Clear();

        var (exit, stdout, stderr) = await RunAsync(h, "--thread", thread, "--dry-run", $"--store=sqlite:{StorePath}");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        Assert.Matches($@"\n-\s+{thread}\s+\(new\)\s+would-migrate\s+2\s+0\s+0", "\n" + stdout);
        Assert.Contains("1 thread: 1 would be migrated", stdout, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was written.", stdout, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing is written", stderr, StringComparison.Ordinal);
        Assert.Contains($"[1/1] {thread}: would-migrate, 2 messages would be carried", stderr, StringComparison.Ordinal);
        Assert.Empty(h.Target.Requests.All);
        Assert.Empty(MigrationHarness.Writes(h.Source));
    }

    [Fact]
    public async Task SomeFailed_Exits1_AndARefusedKey_Exits3()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"));
        await SeedAsync(("known", thread));

        var (failed, table, _) = await RunAsync(h, "--keys", "known,unknown", "--store", $"sqlite:{StorePath}");

        Assert.Equal(MigrateCommand.ExitSomeFailed, failed);
        Assert.Matches(@"\nunknown\s+-\s+-\s+failed\s+0\s+0\s+0\s+Conversation key 'unknown' has no Assistants binding in the store\.", "\n" + table);

        var other = await h.CreateThreadAsync(("user", "again"));
        var (refused, output, errors) = await RunAsync(
            h,
            ["--thread", other, "--thread", thread, "--store", $"sqlite:{StorePath}"],
            targetKey: "sk-wrong-0123456789WRONGSECRET");

        Assert.Equal(MigrateCommand.ExitUnreachable, refused);
        Assert.Contains("Target: HTTP 401", output, StringComparison.Ordinal);
        Assert.Contains("not-attempted", output, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", output + errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UrlsAndKeys_FromTheCommandLine_WinOverTheEnvironment()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"), ("assistant", "hi"));
        await SeedAsync(("k", thread));

        // The environment names a dead address and wrong keys: only the flags can make this succeed (each emulator
        // refuses any key but its own).
        var wrong = new Dictionary<string, string?>
        {
            ["SOURCE_OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1",
            ["SOURCE_OPENAI_API_KEY"] = "sk-wrong-source",
            ["TARGET_OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1",
            ["TARGET_OPENAI_API_KEY"] = "sk-wrong-target",
        };
        string[] flags =
        [
            "--keys", "k", "--store", $"sqlite:{StorePath}",
            "--source-url", h.Source.BaseUri.ToString(), "--source-key", MigrationHarness.SourceKey,
            "--target-url", h.Target.BaseUri.ToString(), "--target-key", MigrationHarness.TargetKey,
        ];

        var (exit, stdout, stderr) = await RunWithEnvironmentAsync(flags, wrong);

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr + stdout);
        Assert.Matches($@"\nk\s+{thread}\s+conv_\w+\s+migrated\s+2\s+0\s+0\s+Responses binding switched", "\n" + stdout);
        Assert.Contains($"migrating from {h.Source.BaseUri}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--source-key", "Source: HTTP 401")]
    [InlineData("--target-key", "Target: HTTP 401")]
    public async Task AWrongKeyFlag_IsSentAndRefused_Exit3(string flag, string expected)
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"));

        // The environment holds the right keys; the flag overrides one of them with a wrong one.
        var (exit, stdout, _) = await RunAsync(h, "--thread", thread, "--store", $"sqlite:{StorePath}", flag, "sk-wrong-0123456789");

        Assert.Equal(MigrateCommand.ExitUnreachable, exit);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceAndTargetQuery_AreSentOnEveryRequestToTheirServerOnly()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"), ("assistant", "hi"));
        h.Source.Requests.Clear();

        var (exit, _, stderr) = await RunAsync(h, "--thread", thread, "--store", $"sqlite:{StorePath}", "--source-query", "api-version=2025-05-01", "--target-query=tenant=t1");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        Assert.NotEmpty(h.Source.Requests.All);
        Assert.All(h.Source.Requests.All, r => Assert.Contains("api-version=2025-05-01", r.Query, StringComparison.Ordinal));
        Assert.All(h.Source.Requests.All, r => Assert.DoesNotContain("tenant=", r.Query, StringComparison.Ordinal));
        Assert.NotEmpty(h.Target.Requests.All);
        Assert.All(h.Target.Requests.All, r => Assert.Contains("tenant=t1", r.Query, StringComparison.Ordinal));
        Assert.All(h.Target.Requests.All, r => Assert.DoesNotContain("api-version=", r.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task FileMap_CarriesMappedImageFilesWithTheTargetsId_OthersReportedAsNotCarried()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = (await h.SourceClient.CreateThreadAsync()).Value.Id;
        await h.AddRawMessageAsync(thread, JsonNode.Parse("""
            {
              "role": "user",
              "content": [
                { "type": "text", "text": "My photos" },
                { "type": "image_file", "image_file": { "file_id": "file-mapped" } },
                { "type": "image_file", "image_file": { "file_id": "file-unmapped" } }
              ]
            }
            """)!.AsObject());
        var map = Path.Combine(_directory, "files.map");
        await File.WriteAllLinesAsync(map, ["# source=target", "", " file-mapped = file-on-target "]);
        await SeedAsync(("k", thread));

        var (exit, stdout, stderr) = await RunAsync(h, "--keys", "k", "--store", $"sqlite:{StorePath}", "--file-map", map);

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        await using var store = OpenStore();
        var binding = await store.GetRequiredService<IConversationStore>().GetAsync("k", AssistantsProtocol.Responses);
        Assert.Equal(["user: My photos + image(file-on-target)"], await h.TranscriptAsync(binding!.ThreadId));
        Assert.Contains("file-unmapped", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("file-mapped", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.map", null, "cannot be read")]
    [InlineData("bad.map", "file-a", "line 1 must be source_file_id=target_file_id (was 'file-a')")]
    public async Task FileMap_Unreadable_OrMalformed_Exit2(string name, string? content, string message)
    {
        await using var h = await MigrationHarness.StartAsync();
        var map = Path.Combine(_directory, name);
        if (content is not null)
        {
            await File.WriteAllTextAsync(map, content);
        }

        var (exit, _, stderr) = await RunAsync(h, "--thread", "thread_x", "--store", $"sqlite:{StorePath}", "--file-map", map);

        Assert.Equal(MigrateCommand.ExitUsage, exit);
        Assert.Contains($"error: --file-map {map} {message}", stderr, StringComparison.Ordinal);
        Assert.Empty(h.Source.Requests.All);
    }

    [Fact]
    public async Task NoSwitch_CarriesTheThread_ButLeavesTheResponsesBindingAlone()
    {
        await using var h = await MigrationHarness.StartAsync();
        var thread = await h.CreateThreadAsync(("user", "hello"), ("assistant", "hi"));
        await SeedAsync(("k", thread));

        var (exit, stdout, stderr) = await RunAsync(h, "--keys", "k", "--store", $"sqlite:{StorePath}", "--no-switch");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        var row = Assert.Single(stdout.Split('\n'), l => l.StartsWith("k ", StringComparison.Ordinal));
        Assert.Matches($@"^k\s+{thread}\s+conv_\w+\s+migrated\s+2\s+0\s+0$", row);
        var conversation = System.Text.RegularExpressions.Regex.Match(row, @"conv_\w+").Value;
        Assert.Equal(["user: hello", "assistant: hi"], await h.TranscriptAsync(conversation));
        await using var store = OpenStore();
        var bindings = store.GetRequiredService<IConversationStore>();
        Assert.Null(await bindings.GetAsync("k", AssistantsProtocol.Responses));
        Assert.Equal(thread, (await bindings.GetAsync("k", AssistantsProtocol.Assistants))!.ThreadId);
    }

    [Fact]
    public async Task NoRunSteps_ReadsNoRunSteps_SoTheCodeInterpreterCallIsNotReported()
    {
        await using var h = await MigrationHarness.StartAsync();
        var (thread, runId) = await h.CreateCodeInterpreterThreadAsync();
        h.Source.Requests.Clear();

        // With run steps (a dry run), the table lists the code interpreter call as not carried.
        var (dry, withSteps, _) = await RunAsync(h, "--thread", thread, "--store", $"sqlite:{StorePath}", "--dry-run");
        Assert.Equal(MigrateCommand.ExitSucceeded, dry);
        Assert.Contains($"  {thread} {runId} code interpreter: code interpreter call ", withSteps, StringComparison.Ordinal);
        Assert.NotEmpty(h.Source.Requests.Where("GET", "/threads/*/runs/*/steps"));
        h.Source.Requests.Clear();

        var (exit, stdout, stderr) = await RunAsync(h, "--thread", thread, "--store", $"sqlite:{StorePath}", "--no-run-steps");

        Assert.True(exit == MigrateCommand.ExitSucceeded, stderr);
        Assert.Matches($@"\n-\s+{thread}\s+conv_\w+\s+migrated\s+2\s+0\s+1", "\n" + stdout); // only the chart in the reply
        Assert.DoesNotContain("code interpreter", stdout, StringComparison.Ordinal);
        Assert.Empty(h.Source.Requests.Where("GET", "/threads/*/runs/*/steps"));
    }

    [Theory]
    [InlineData("", "say what to migrate")]
    [InlineData("--all --keys a --store sqlite:x.db", "use only one of --keys, --all and --thread")]
    [InlineData("--all", "--store sqlite:PATH or redis:CONNECTION is required")]
    [InlineData("--all --store mongo:x", "--store must be sqlite:PATH or redis:CONNECTION[,prefix=PREFIX] (was 'mongo:x')")]
    [InlineData("--all --store sqlite:", "--store must be sqlite:PATH or redis:CONNECTION[,prefix=PREFIX] (was 'sqlite:')")]
    [InlineData("--all --store redis:prefix=app:", "--store redis:CONNECTION needs a server, e.g. redis:localhost:6379")]
    [InlineData("--all --store redis:localhost:6379,prefix=", "--store redis:…,prefix= needs a prefix")]
    [InlineData("--all --store redis:localhost:6379,connectTimeout=soon", "--store redis: is not a valid StackExchange.Redis configuration")]
    [InlineData("--all --store sqlite:x.db", "the source is required: --source-url or SOURCE_OPENAI_BASE_URL")]
    [InlineData("--all --store sqlite:x.db --source-url ftp://host/v1", "--source-url must be an absolute http or https URL including /v1 (was 'ftp://host/v1')")]
    [InlineData("--all --store sqlite:x.db --source-url http://127.0.0.1:9/v1", "the target key is required for https://api.openai.com/v1")]
    [InlineData("--all --batch-size 50", "--batch-size must be a number from 1 to 20 (was '50')")]
    [InlineData("--thread", "--thread needs THREAD_ID")]
    [InlineData("--bogus", "unknown argument '--bogus'")]
    public async Task UsageErrors_Exit2_NamingTheProblem(string args, string message)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await MigrateCommand.RunAsync(args.Split(' ', StringSplitOptions.RemoveEmptyEntries), new Dictionary<string, string?>(), stdout, stderr);

        Assert.Equal(MigrateCommand.ExitUsage, exit);
        Assert.Contains("error: " + message, stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public async Task Help_PrintsTheUsage_AndExits0()
    {
        var stdout = new StringWriter();

        var exit = await MigrateCommand.RunAsync(["--help"], new Dictionary<string, string?>(), stdout, new StringWriter());

        Assert.Equal(MigrateCommand.ExitSucceeded, exit);
        Assert.Contains("usage: assistants-kit-migrate", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("TARGET_OPENAI_API_KEY", stdout.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private Task<(int Exit, string Stdout, string Stderr)> RunAsync(MigrationHarness h, params string[] args) => RunAsync(h, args, MigrationHarness.TargetKey);

    private static async Task<(int Exit, string Stdout, string Stderr)> RunWithEnvironmentAsync(string[] args, Dictionary<string, string?> environment)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await MigrateCommand.RunAsync(args, environment, stdout, stderr);
        return (exit, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(MigrationHarness h, string[] args, string targetKey)
    {
        var environment = new Dictionary<string, string?>
        {
            ["SOURCE_OPENAI_BASE_URL"] = h.Source.BaseUri.ToString(),
            ["SOURCE_OPENAI_API_KEY"] = MigrationHarness.SourceKey,
            ["TARGET_OPENAI_BASE_URL"] = h.Target.BaseUri.ToString(),
            ["TARGET_OPENAI_API_KEY"] = targetKey,
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await MigrateCommand.RunAsync(args, environment, stdout, stderr);
        return (exit, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }

    private ServiceProvider OpenStore()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAssistantsKit(o => o.Endpoint = new Uri("http://127.0.0.1:9/v1")).AddSqliteStore(StorePath);
        return services.BuildServiceProvider();
    }

    private async Task SeedAsync(params (string Key, string ThreadId)[] bindings)
    {
        await using var services = OpenStore();
        var store = services.GetRequiredService<IConversationStore>();
        foreach (var (key, threadId) in bindings)
        {
            await store.SaveAsync(new ConversationBinding { ConversationKey = key, Protocol = AssistantsProtocol.Assistants, ThreadId = threadId });
        }
    }
}
