using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Assistants.Kit.Tests.Files;

/// <summary>Limits are checked on the client, with messages naming the file and the limit, before anything is uploaded.</summary>
public sealed class FileLimitTests
{
    [Fact]
    public async Task TooLargeFile_IsRefusedBeforeAnyUpload()
    {
        await using var kit = await FilesKit.StartAsync();
        var huge = FileSource.FromStream(new SizedStream(FileLimits.MaxFileBytes + 1), "dump.txt");

        var ex = await Assert.ThrowsAsync<FileLimitException>(() => kit.Files().IngestAsync("docs", [FileSource.FromText("ok", "ok.txt"), huge]));

        Assert.Equal("dump.txt", ex.FileName);
        Assert.Equal("'dump.txt' is 536,870,913 bytes; the service accepts files up to 536,870,912 bytes (512 MB).", ex.Message);
        Assert.Empty(kit.Emulator.Requests.All);
    }

    [Fact]
    public async Task UnsupportedExtension_IsRefusedBeforeAnyUpload_NamingTheAcceptedOnes()
    {
        await using var kit = await FilesKit.StartAsync();

        var ex = await Assert.ThrowsAsync<FileLimitException>(() => kit.Files().IngestAsync("docs", [FileSource.FromText("a,b", "data.csv")]));

        Assert.StartsWith("'data.csv' has the extension '.csv', which file search does not accept. Accepted: .c .cpp .cs .css .doc .docx .go .html .java .js .json .md .pdf .php .pptx .py .rb .sh .tex .ts .txt.", ex.Message, StringComparison.Ordinal);
        Assert.Empty(kit.Emulator.Requests.All);

        // The same file is fine for code interpreter, and as a plain upload (either tool).
        await kit.Files().UploadAsync(FileSource.FromText("a,b", "data.csv"), AttachmentTools.CodeInterpreter);
        await kit.Files().UploadAsync(new MemoryStream([1, 2]), "data.csv");
        var noTool = await Assert.ThrowsAsync<FileLimitException>(() => kit.Files().UploadAsync(new MemoryStream([1]), "program.exe"));
        Assert.StartsWith("'program.exe' has the extension '.exe', which neither file search nor code interpreter accepts.", noTool.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoreFilesThanAStoreHolds_AreRefusedBeforeAnyRequest()
    {
        await using var kit = await FilesKit.StartAsync();
        var files = Enumerable.Range(0, FileLimits.MaxFilesPerVectorStore + 1).Select(i => FileSource.FromText("x", $"f{i}.txt"));

        var ex = await Assert.ThrowsAsync<FileLimitException>(() => kit.Files().IngestAsync("docs", files));

        Assert.Equal("10,001 files were given for vector store 'docs'; a vector store holds at most 10,000.", ex.Message);
        Assert.Empty(kit.Emulator.Requests.All);
    }

    [Fact]
    public async Task AStoreNearlyFull_RefusesNewFilesBeforeAnyUpload()
    {
        using var server = WireMockServer.Start();
        server.Given(Request.Create().WithPath("/v1/vector_stores").UsingGet()).RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(
            """{"object":"list","data":[{"id":"vs_full","object":"vector_store","created_at":1,"name":"docs","usage_bytes":0,"file_counts":{"in_progress":0,"completed":9999,"failed":0,"cancelled":0,"total":9999},"status":"completed","expires_after":null,"expires_at":null,"last_active_at":1,"metadata":{"kit_vector_store":"docs"}}],"first_id":"vs_full","last_id":"vs_full","has_more":false}"""));
        server.Given(Request.Create().WithPath("/v1/vector_stores/vs_full/files").UsingGet()).RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(
            """{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"""));
        await using var services = KitServices.Build(new Uri(server.Urls[0] + "/v1"), kit: b => b.AddFiles());

        var ex = await Assert.ThrowsAsync<FileLimitException>(() => services.Files().IngestAsync("docs", [FileSource.FromText("a", "a.txt"), FileSource.FromText("b", "b.txt")]));

        Assert.Equal("Vector store 'docs' holds 9,999 files; adding 2 would pass the limit of 10,000 files per vector store.", ex.Message);
        Assert.DoesNotContain(server.LogEntries, e => e.RequestMessage!.Method == "POST");
    }

    [Fact]
    public async Task DuplicateNames_AndReservedOrBadAttributes_AreRefusedUpFront()
    {
        await using var kit = await FilesKit.StartAsync();
        var reserved = FileSource.FromText("x", "a.txt");
        reserved.Attributes[AssistantFiles.ContentHashAttribute] = "mine";
        var badType = FileSource.FromText("x", "b.txt");
        badType.Attributes["when"] = DateTime.UnixEpoch;
        var tooMany = new FileIngestionOptions();
        for (var i = 0; i < 15; i++)
        {
            tooMany.Attributes[$"k{i}"] = i;
        }

        var duplicate = await Assert.ThrowsAsync<ArgumentException>(() => kit.Files().IngestAsync("docs", [FileSource.FromText("1", "a.txt"), FileSource.FromText("2", "a.txt")]));
        var kitKey = await Assert.ThrowsAsync<ArgumentException>(() => kit.Files().IngestAsync("docs", [reserved]));
        var type = await Assert.ThrowsAsync<ArgumentException>(() => kit.Files().IngestAsync("docs", [badType]));
        var count = await Assert.ThrowsAsync<ArgumentException>(() => kit.Files().IngestAsync("docs", [FileSource.FromText("x", "c.txt")], tooMany));

        Assert.StartsWith("The file name 'a.txt' is given 2 times", duplicate.Message, StringComparison.Ordinal);
        Assert.StartsWith("The attribute 'kit_sha256' of 'a.txt' is the kit's own", kitKey.Message, StringComparison.Ordinal);
        Assert.StartsWith("The attribute 'when' of 'b.txt' is a DateTime; attributes are strings, numbers or booleans.", type.Message, StringComparison.Ordinal);
        Assert.StartsWith("15 attributes were given of 'c.txt'; at most 14 fit (a vector store file holds 16, the kit keeps 2).", count.Message, StringComparison.Ordinal);
        Assert.Empty(kit.Emulator.Requests.All);
    }

    [Theory]
    [InlineData(99, 0, "maxChunkSizeTokens", "The chunk size must be 100 to 4096 tokens (was 99).")]
    [InlineData(4097, 0, "maxChunkSizeTokens", "The chunk size must be 100 to 4096 tokens (was 4097).")]
    [InlineData(800, 401, "chunkOverlapTokens", "The chunk overlap must be 0 to half the chunk size, 400 tokens (was 401).")]
    [InlineData(800, -1, "chunkOverlapTokens", "The chunk overlap must be 0 to half the chunk size, 400 tokens (was -1).")]
    public void StaticChunking_OutOfRange_NamesTheValue(int size, int overlap, string parameter, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ChunkingStrategy.Static(size, overlap));

        Assert.Equal(parameter, ex.ParamName);
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AcceptedExtensions_AreTheDocumentedLists()
    {
        Assert.Equal(
            ".c .cpp .cs .css .doc .docx .go .html .java .js .json .md .pdf .php .pptx .py .rb .sh .tex .ts .txt",
            string.Join(" ", FileLimits.FileSearchExtensions.Order(StringComparer.Ordinal)));
        Assert.Equal(
            ".c .cpp .cs .css .csv .doc .docx .gif .go .html .java .jpeg .jpg .js .json .md .pdf .php .pkl .png .pptx .py .rb .sh .tar .tex .ts .txt .xlsx .xml .zip",
            string.Join(" ", FileLimits.CodeInterpreterExtensions.Order(StringComparer.Ordinal)));
        Assert.True(FileLimits.IsSupported("NOTES.MD", AttachmentTools.FileSearch));
        Assert.False(FileLimits.IsSupported("notes.csv", AttachmentTools.FileSearch | AttachmentTools.CodeInterpreter));
    }

    [Fact]
    public void ProcessingOptions_AreValidated_NamingTheBadValues()
    {
        using var services = KitServices.Build(new Uri("http://127.0.0.1:9/v1"), kit: b => b.AddFiles(o =>
        {
            o.Processing.InitialDelay = TimeSpan.Zero;
            o.Processing.BackoffFactor = 0.5;
            o.Processing.Jitter = 1.5;
            o.Processing.Timeout = TimeSpan.FromSeconds(-1);
        }));

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AssistantFilesOptions>>().Value);

        Assert.Contains("AssistantFilesOptions.Processing.InitialDelay '00:00:00' must be positive.", ex.Failures);
        Assert.Contains("AssistantFilesOptions.Processing.BackoffFactor '0.5' must be at least 1.", ex.Failures);
        Assert.Contains("AssistantFilesOptions.Processing.Jitter '1.5' must be in [0, 1).", ex.Failures);
        Assert.Contains("AssistantFilesOptions.Processing.Timeout '-00:00:01' must be positive.", ex.Failures);
    }

    /// <summary>A stream of zeros of a given length that never allocates it.</summary>
    private sealed class SizedStream(long length, bool seekable = true) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => seekable;

        public override bool CanWrite => false;

        public override long Length => seekable ? length : throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
