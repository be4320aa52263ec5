using System.Globalization;
using Assistants.Kit.Sqlite.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assistants.Kit.Stores.Tests.Sqlite;

/// <summary>
/// One writer of the multi-process tests. The store test's writer increments a shared binding (read, change, save; on a
/// version conflict read again) and creates bindings of its own; the ledger test's writer appends usage entries. Runs in
/// this test process and, through <see cref="Program"/>, in other OS processes started with
/// <c>dotnet Assistants.Kit.Stores.Tests.dll sqlite-worker &lt;file&gt; &lt;id&gt; &lt;count&gt;</c> (or
/// <c>sqlite-ledger-worker</c> with the same arguments).
/// </summary>
internal static class SqliteWorker
{
    public const string Command = "sqlite-worker";
    public const string LedgerCommand = "sqlite-ledger-worker";
    public const string SharedKey = "shared-counter";

    /// <summary>The worker process: says "ready", waits for "go" on stdin, works, prints "done &lt;conflicts&gt;".</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var (path, id, increments) = (args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
            Console.WriteLine("ready");
            if (await Console.In.ReadLineAsync() != "go")
            {
                return 2;
            }

            using var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, TimeProvider.System, NullLogger.Instance);
            var conflicts = await HammerAsync(new SqliteConversationStore(database, TimeProvider.System), id, increments);
            Console.WriteLine($"done {conflicts}");
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync(ex.ToString());
            return 1;
        }
    }

    /// <summary>The ledger worker process: says "ready", waits for "go" on stdin, appends, prints "done".</summary>
    public static async Task<int> RunLedgerAsync(string[] args)
    {
        try
        {
            var (path, id, count) = (args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
            Console.WriteLine("ready");
            if (await Console.In.ReadLineAsync() != "go")
            {
                return 2;
            }

            using var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, TimeProvider.System, NullLogger.Instance);
            await AppendAsync(new SqliteUsageLedger(database), id, count);
            Console.WriteLine("done");
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync(ex.ToString());
            return 1;
        }
    }

    /// <summary>Appends <paramref name="count"/> entries of writer <paramref name="id"/>: 0.000001 dollars and 1 + i input tokens each.</summary>
    public static async Task AppendAsync(IUsageLedger ledger, string id, int count)
    {
        var at = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < count; i++)
        {
            await ledger.AppendAsync(new UsageEntry
            {
                Timestamp = at.AddMilliseconds(i),
                ConversationKey = id,
                Model = "gpt-4.1-mini",
                Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["writer"] = id, ["parity"] = (i % 2).ToString(CultureInfo.InvariantCulture) },
                Usage = new TokenUsage(1 + i, 1),
                TokenCost = 0.000001m,
            });
        }
    }

    /// <summary>Does the work; returns how many saves lost a race and were retried.</summary>
    public static async Task<int> HammerAsync(IConversationStore store, string id, int increments)
    {
        var conflicts = 0;
        for (var i = 0; i < increments; i++)
        {
            while (true)
            {
                var current = await store.GetAsync(SharedKey, AssistantsProtocol.Assistants);
                var next = current is null
                    ? new ConversationBinding { ConversationKey = SharedKey, Protocol = AssistantsProtocol.Assistants, ThreadId = "thread_shared", MessageCount = 1, PreviousThreadIds = [id] }
                    : current with { MessageCount = current.MessageCount + 1, PreviousThreadIds = [.. current.PreviousThreadIds, id] };
                try
                {
                    await store.SaveAsync(next);
                    break;
                }
                catch (ConversationConcurrencyException)
                {
                    conflicts++;
                }
            }

            await store.SaveAsync(new ConversationBinding
            {
                ConversationKey = $"{id}-{i:D4}",
                Protocol = AssistantsProtocol.Assistants,
                ThreadId = $"thread_{id}_{i}",
                PendingToolCalls = [new PendingToolCall($"call_{i}", "work", $$"""{"i":{{i}}}""")],
            });
        }

        return conflicts;
    }
}

/// <summary>
/// Worker processes of a multi-process test: started and ready (each said "ready"), released together with
/// <see cref="GoAsync"/>, awaited with <see cref="WaitForExitAsync"/>; any still running at disposal are killed.
/// </summary>
internal sealed class SqliteWorkerProcesses : IDisposable
{
    private readonly List<System.Diagnostics.Process> _workers = [];

    private SqliteWorkerProcesses()
    {
    }

    /// <summary>Starts one worker per ID on <paramref name="path"/> and waits until each is ready.</summary>
    public static async Task<SqliteWorkerProcesses> StartAsync(string path, IEnumerable<string> ids, int count, string command)
    {
        var group = new SqliteWorkerProcesses();
        try
        {
            foreach (var id in ids)
            {
                var worker = SqliteStoreTests.StartWorker(path, id, count, command);
                group._workers.Add(worker);
                var greeting = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (greeting != "ready")
                {
                    worker.Kill(entireProcessTree: true);
                    Assert.Fail($"worker {id} said '{greeting}' instead of 'ready': {await worker.StandardError.ReadToEndAsync()}");
                }
            }

            return group;
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    /// <summary>Lets every worker start working.</summary>
    public async Task GoAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.StandardInput.WriteLineAsync("go");
            await worker.StandardInput.FlushAsync();
        }
    }

    /// <summary>Waits for every worker to exit with code 0 and returns what each printed, with its process ID.</summary>
    public async Task<IReadOnlyList<(int ProcessId, string Stdout)>> WaitForExitAsync()
    {
        var outputs = new List<(int, string)>();
        foreach (var worker in _workers)
        {
            var stdout = worker.StandardOutput.ReadToEndAsync();
            var stderr = worker.StandardError.ReadToEndAsync();
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(worker.ExitCode == 0, $"worker exited with {worker.ExitCode}: {await stdout} {await stderr}");
            outputs.Add((worker.Id, await stdout));
        }

        return outputs;
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
            }

            worker.Dispose();
        }
    }
}
