using Assistants.Kit.Stores.Tests.Support;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// End to end over the emulator: an ingestion stops after its uploads (the batch creation fails), the process goes away,
/// and a new process on the same durable store adds the recorded uploads instead of uploading them again.
/// </summary>
public sealed class IngestionRestartTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    public void Dispose()
    {
        _directory.Dispose();
        if (RedisServer.SkipReason is null)
        {
            RedisKeys.DeleteAsync(_prefix).GetAwaiter().GetResult();
        }
    }

    [Fact]
    public Task Sqlite_AStoppedIngestion_IsResumedByTheNextProcess()
    {
        var path = _directory.File("kit.db");
        return AssertResumedAsync(kit => kit.AddSqliteStore(path));
    }

    [RedisFact]
    public Task Redis_AStoppedIngestion_IsResumedByTheNextProcess() =>
        AssertResumedAsync(kit => kit.AddRedisStore(o =>
        {
            o.ConnectionString = RedisServer.ConnectionString;
            o.KeyPrefix = _prefix;
        }));

    private static async Task AssertResumedAsync(Action<IAssistantsKitBuilder> store)
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions());
        emulator.Faults.On("POST", "/vector_stores/*/file_batches").OnNth(1).RespondWith(400, message: "Simulated failure before the files were added.");
        FileSource[] files =
        [
            FileSource.FromText("Every pull request gets a review within one working day.", "reviews.md"),
            FileSource.FromText("Deploys go through the pipeline, never by hand.", "deploys.txt"),
        ];

        await using (var first = Build(emulator, store))
        {
            await Assert.ThrowsAsync<AssistantsServerException>(() => first.GetRequiredService<AssistantFiles>().IngestAsync("docs", files));
        }

        Assert.Equal(2, emulator.Requests.Count("POST", "/files"));

        await using var restarted = Build(emulator, store);
        var result = await restarted.GetRequiredService<AssistantFiles>().IngestAsync("docs", files);

        Assert.True(result.Succeeded);
        Assert.Equal([IngestionOutcome.Resumed, IngestionOutcome.Resumed], result.Files.Select(f => f.Outcome));
        Assert.Equal(2, emulator.Requests.Count("POST", "/files"));
        var records = await restarted.GetRequiredService<IFileIngestionStore>().ListAsync("docs").ToListAsync();
        Assert.Equal(result.Files.Select(f => f.FileId).Order(), records.Select(r => r.FileId).Order());
        Assert.All(records, r => Assert.Equal((FileIngestionStatus.Added, result.VectorStoreId), (r.Status, r.VectorStoreId)));
    }

    private static ServiceProvider Build(AssistantsEmulator emulator, Action<IAssistantsKitBuilder> store)
    {
        var services = new ServiceCollection();
        var kit = services.AddAssistantsKit(o =>
        {
            o.Endpoint = emulator.BaseUri;
            o.ApiKey = "sk-test-ingestion-restart";
        }).AddFiles(o =>
        {
            o.Processing.InitialDelay = TimeSpan.FromMilliseconds(10);
            o.Processing.MaxDelay = TimeSpan.FromMilliseconds(50);
            o.Processing.Jitter = 0;
        });
        store(kit);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
